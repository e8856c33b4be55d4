import factory
from django.contrib.auth import get_user_model

from courseware.models import (
    Course,
    HomeworkTask,
    LearningObjective,
    Membership,
    Session,
    course_slug,
)

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.edu")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"CRS{n:05d}")
    term = ""
    slug = factory.LazyAttribute(lambda course: course_slug(course.code, course.term))
    title = factory.Faker("catch_phrase")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    course = factory.SubFactory(CourseFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.STUDENT


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    course = factory.SubFactory(CourseFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Faker("sentence", nb_words=4)
    lecturer = factory.Faker("name")
    slides_html = '<section class="slide" id="slide-1"><h2>Hello</h2></section>'
    slide_count = 1


class LearningObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LearningObjective

    session = factory.SubFactory(SessionFactory)
    position = factory.Sequence(lambda n: n + 1)
    text = factory.Faker("sentence")


class HomeworkTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HomeworkTask

    session = factory.SubFactory(SessionFactory)
    position = factory.Sequence(lambda n: n + 1)
    text = factory.Faker("sentence")


# --- labs -----------------------------------------------------------------------------------
# Models by label, so this block needs no imports above (other apps' factories stay untouched).

HELDOUT_CSV = (
    "text,label\n"
    "the plot was dull and slow,negative\n"
    "it was fine I guess,neutral\n"
    "a wonderful film,positive\n"
)


def _now():
    from django.utils import timezone

    return timezone.now()


class LabFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "labs.Lab"

    session = factory.SubFactory(SessionFactory)
    title = factory.Sequence(lambda n: f"Lab {n}: sentiment classification")
    instructions = "Fine-tune a model on the **sentiment** data and submit it."
    labels = factory.LazyFunction(lambda: ["negative", "neutral", "positive"])
    primary_metric = "macro_f1"
    daily_quota = 5


class HeldOutDatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "labs.HeldOutDataset"

    lab = factory.SubFactory(LabFactory)
    version = factory.Sequence(lambda n: n + 1)
    file = factory.django.FileField(filename="heldout.csv", data=HELDOUT_CSV.encode())
    format = "csv"
    row_count = 3
    checksum = "0" * 64
    label_counts = factory.LazyFunction(lambda: {"negative": 1, "neutral": 1, "positive": 1})


class SubmissionFactory(factory.django.DjangoModelFactory):
    """A queued submission; pass `status="scored"` and `metrics_*` for a graded one."""

    class Meta:
        model = "labs.Submission"

    lab = factory.SubFactory(LabFactory)
    student = factory.SubFactory(UserFactory)
    artifact = factory.django.FileField(filename="model.zip", data=b"PK\x05\x06" + b"\0" * 18)
    artifact_name = "model.zip"
    artifact_size = 22
    enqueue_count = 1
    status = "queued"
    queued_at = factory.LazyFunction(_now)
