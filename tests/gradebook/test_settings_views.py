"""The instructor's gradebook settings and categories pages: per role, what each form changes,
the validation, and that every change reaches the stored totals."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.exceptions import ApplicationError
from gradebook import services
from gradebook.models import GradebookSettings, GradeCategory, GradeItem, StudentTotals

pytestmark = pytest.mark.django_db


def url(course, name="gradebook-setup", **kwargs):
    return reverse(name, kwargs={"code": course.slug, **kwargs})


def category_data(**overrides):
    data = {
        "name": "Exams",
        "weight": "40",
        "drop_lowest": "0",
        "drop_highest": "0",
        "late_deduct_percent": "",
        "late_per": "day",
        "late_minimum_percent": "0",
        "missing_as_zero": "on",
    }
    return {**data, **overrides}


def settings_data(**overrides):
    data = {
        "weighted": "on",
        "letter_cutoffs": "A 90\nB 80\nC 70\nD 60\nF 0",
        "lab_choice": "last",
        "homework_mode": "task",
    }
    return {**data, **overrides}


def flashed(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def manual_item_with_score(course, instructor, student, score=8.0):
    item = services.manual_item_create(
        actor=instructor, course=course, title="Exam", points_possible=10
    )
    services.manual_score_set(actor=instructor, item=item, student=student, score=score)
    return item


# --- who may open and change them ------------------------------------------------------------


def test_the_instructor_sees_settings_categories_and_items(client, course, gradebook, instructor):
    client.force_login(instructor)
    response = client.get(url(course))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="gradebook-settings"' in content and 'id="categories"' in content
    assert "Attention quiz" in content and "Sentiment lab" in content
    assert "A 90\nB 80\nC 70\nD 60\nF 0" in content
    grid = client.get(url(course, "gradebook")).content.decode()
    assert url(course) in grid  # linked from the gradebook page


@pytest.mark.parametrize("who", ["ta", "student"])
def test_a_ta_or_a_student_is_refused_every_settings_page(
    client, course, gradebook, who, request, gb_quiz
):
    client.force_login(request.getfixturevalue(who))
    category = GradeCategory.objects.filter(course=course).first()
    item = GradeItem.objects.get(kind="quiz")
    assert client.get(url(course)).status_code == 403
    posts = [
        (url(course, "gradebook-settings-update"), settings_data()),
        (url(course, "gradebook-category-create"), category_data()),
        (url(course, "gradebook-category-update", category_id=category.pk), category_data()),
        (url(course, "gradebook-category-delete", category_id=category.pk), {}),
        (
            url(course, "gradebook-item-update", item_id=item.pk),
            {"category": category.pk, "points_possible": "99"},
        ),
    ]
    for address, data in posts:
        assert client.post(address, data).status_code == 403, address
    assert not GradebookSettings.objects.get(course=course).weighted
    assert not GradeCategory.objects.filter(course=course, name="Exams").exists()
    assert GradeItem.objects.get(pk=item.pk).points_possible == 2.0


def test_a_member_of_another_course_gets_not_found(client, course, gradebook, other_student):
    client.force_login(other_student)
    assert client.get(url(course)).status_code == 404
    assert client.post(url(course, "gradebook-settings-update"), settings_data()).status_code == (
        404
    )


def test_the_settings_pages_answer_only_their_methods(client, course, gradebook, instructor):
    client.force_login(instructor)
    assert client.post(url(course)).status_code == 405
    assert client.get(url(course, "gradebook-settings-update")).status_code == 405


# --- settings --------------------------------------------------------------------------------


def test_saving_settings_changes_them_and_recomputes_the_totals(
    client, course, gradebook, instructor, student
):
    manual_item_with_score(course, instructor, student, score=8.0)
    before = StudentTotals.objects.get(course=course, student=student).current_letter
    client.force_login(instructor)
    response = client.post(
        url(course, "gradebook-settings-update"),
        settings_data(weighted="", letter_cutoffs="Pass 50\nFail 0", homework_mode="session"),
        follow=True,
    )
    assert "Settings saved" in flashed(response)
    settings = GradebookSettings.objects.get(course=course)
    assert settings.letter_cutoffs == [["Pass", 50.0], ["Fail", 0.0]]
    assert (settings.weighted, settings.lab_choice, settings.homework_mode) == (
        False,
        "last",
        "session",
    )
    assert before == "B"
    assert StudentTotals.objects.get(course=course, student=student).current_letter == "Pass"


@pytest.mark.parametrize(
    "cutoffs, message",
    [
        ("A 80\nB 90\nF 0", "from the highest"),
        ("A 90\nB 80", "last letter cut-off must be 0"),
        ("A 90\nB ninety\nF 0", "line 2"),
        ("A 90\nA 50\nF 0", "its own letter"),
    ],
)
def test_letter_cut_offs_must_descend_to_zero(
    client, course, gradebook, instructor, cutoffs, message
):
    client.force_login(instructor)
    response = client.post(
        url(course, "gradebook-settings-update"),
        settings_data(letter_cutoffs=cutoffs),
        follow=True,
    )
    assert message in flashed(response)
    settings = GradebookSettings.objects.get(course=course)
    assert settings.letter_cutoffs[0] == ["A", 90.0] and not settings.weighted


# --- categories ------------------------------------------------------------------------------


def test_the_instructor_adds_a_category_with_a_late_policy(client, course, gradebook, instructor):
    client.force_login(instructor)
    response = client.post(
        url(course, "gradebook-category-create"),
        category_data(
            drop_lowest="1",
            late_deduct_percent="10",
            late_per="hour",
            late_minimum_percent="50",
            missing_as_zero="",
        ),
        follow=True,
    )
    assert "Saved the category Exams" in flashed(response)
    exams = GradeCategory.objects.get(course=course, name="Exams")
    assert (exams.weight, exams.drop_lowest, exams.late_deduct_percent, exams.late_per) == (
        40.0,
        1,
        10.0,
        "hour",
    )
    assert exams.late_minimum_percent == 50.0 and not exams.missing_as_zero


def test_a_category_name_must_be_new_and_numbers_in_range(client, course, gradebook, instructor):
    client.force_login(instructor)
    count = GradeCategory.objects.filter(course=course).count()
    response = client.post(
        url(course, "gradebook-category-create"), category_data(name="quizzes"), follow=True
    )
    assert "not used yet" in flashed(response)
    response = client.post(
        url(course, "gradebook-category-create"),
        category_data(late_deduct_percent="120"),
        follow=True,
    )
    assert "less than or equal to 100" in flashed(response)
    assert GradeCategory.objects.filter(course=course).count() == count


def test_editing_a_category_recomputes_the_totals(client, course, gradebook, instructor, student):
    item = manual_item_with_score(course, instructor, student, score=8.0)
    services.manual_item_create(
        actor=instructor,
        course=course,
        title="Essay",
        points_possible=10,
        category=item.category,
        due_at=timezone.now() - timedelta(days=1),
    )  # nothing handed in: missing
    category = item.category
    client.force_login(instructor)
    edit = url(course, "gradebook-category-update", category_id=category.pk)

    def percents():
        totals = StudentTotals.objects.get(course=course, student=student)
        row = totals.categories[str(category.pk)]
        return row["percent"], row["final_percent"]

    assert percents() == (80.0, 40.0)  # no late policy: missing work waits for the final
    client.post(edit, category_data(name=category.name, late_deduct_percent="10"))
    assert percents() == (40.0, 40.0)  # missing counts as 0 now
    client.post(edit, category_data(name=category.name, late_deduct_percent="10", drop_lowest="1"))
    assert percents() == (80.0, 80.0)  # the 0 is dropped
    category.refresh_from_db()
    assert (category.late_deduct_percent, category.drop_lowest, category.weight) == (10.0, 1, 40.0)


def test_a_category_with_items_cannot_be_deleted_an_empty_one_can(
    client, course, gradebook, instructor
):
    client.force_login(instructor)
    quizzes = GradeCategory.objects.get(course=course, name="Quizzes")
    response = client.post(
        url(course, "gradebook-category-delete", category_id=quizzes.pk), follow=True
    )
    assert "still holds 1 item" in flashed(response)
    assert GradeCategory.objects.filter(pk=quizzes.pk).exists()
    empty = services.grade_category_save(actor=instructor, course=course, name="Spare")
    response = client.post(
        url(course, "gradebook-category-delete", category_id=empty.pk), follow=True
    )
    assert "Deleted the category Spare" in flashed(response)
    assert not GradeCategory.objects.filter(pk=empty.pk).exists()


def test_the_last_category_cannot_be_deleted(course, instructor):
    services.gradebook_settings_get(course=course)
    categories = list(GradeCategory.objects.filter(course=course))
    for category in categories[1:]:
        services.grade_category_delete(actor=instructor, category=category)
    with pytest.raises(ApplicationError, match="at least one category"):
        services.grade_category_delete(actor=instructor, category=categories[0])


# --- items -----------------------------------------------------------------------------------


def test_the_instructor_moves_an_item_and_sets_its_flags_and_lab_mapping(
    client, course, gradebook, instructor
):
    client.force_login(instructor)
    lab = GradeItem.objects.get(kind="lab")
    quizzes = GradeCategory.objects.get(course=course, name="Quizzes")
    response = client.post(
        url(course, "gradebook-item-update", item_id=lab.pk),
        {
            "category": quizzes.pk,
            "points_possible": "20",
            "never_drop": "on",
            "extra_credit": "on",
            "lab_floor": "0.4",
            "lab_target": "0.8",
        },
        follow=True,
    )
    assert "Saved Sentiment lab" in flashed(response)
    lab.refresh_from_db()
    assert (lab.category, lab.points_possible, lab.never_drop, lab.extra_credit) == (
        quizzes,
        20.0,
        True,
        True,
    )
    assert (lab.lab_floor, lab.lab_target, lab.points_set) == (0.4, 0.8, True)


def test_a_lab_target_below_its_floor_is_refused(client, course, gradebook, instructor):
    client.force_login(instructor)
    lab = GradeItem.objects.get(kind="lab")
    response = client.post(
        url(course, "gradebook-item-update", item_id=lab.pk),
        {
            "category": lab.category_id,
            "points_possible": "10",
            "lab_floor": "0.8",
            "lab_target": "0.4",
        },
        follow=True,
    )
    assert "must be above its floor" in flashed(response)
    lab.refresh_from_db()
    assert (lab.lab_floor, lab.lab_target) == (0.0, 1.0)


def test_saving_an_item_unchanged_keeps_following_the_quiz_marks(
    client, course, gradebook, instructor
):
    client.force_login(instructor)
    quiz = GradeItem.objects.get(kind="quiz")
    client.post(
        url(course, "gradebook-item-update", item_id=quiz.pk),
        {"category": quiz.category_id, "points_possible": "2", "never_drop": "on"},
    )
    quiz.refresh_from_db()
    assert quiz.never_drop and not quiz.points_set


def test_an_item_cannot_move_to_another_courses_category(
    client, course, other_course, gradebook, instructor
):
    services.gradebook_settings_get(course=other_course)
    foreign = GradeCategory.objects.filter(course=other_course).first()
    quiz = GradeItem.objects.get(kind="quiz")
    client.force_login(instructor)
    response = client.post(
        url(course, "gradebook-item-update", item_id=quiz.pk),
        {"category": foreign.pk, "points_possible": "2"},
        follow=True,
    )
    assert "this course's categories" in flashed(response)
    quiz.refresh_from_db()
    assert quiz.category.course == course
