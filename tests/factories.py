import factory
from django.contrib.auth import get_user_model

from courseware.models import Course, HomeworkTask, LearningObjective, Membership, Session

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
