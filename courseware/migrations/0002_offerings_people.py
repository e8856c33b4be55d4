"""Offerings (term, dates, state, slug), self-enrolment settings, teaching assistants,
sections and unenrolment (issue 11). Existing courses keep their code as their slug, so
every URL that named them keeps working."""

from django.db import migrations, models

import courseware.models


def slug_from_code(apps, schema_editor):
    Course = apps.get_model("courseware", "Course")
    for course in Course.objects.all():
        course.slug = course.code
        course.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [("courseware", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="course",
            name="code",
            field=models.CharField(
                max_length=40,
                validators=[courseware.models.course_code_validator],
            ),
        ),
        migrations.AddField(
            model_name="course",
            name="term",
            field=models.CharField(blank=True, default="", max_length=40),
        ),
        migrations.AddField(
            model_name="course",
            name="slug",
            # No index yet: the unique one is made once every row has its slug.
            field=models.SlugField(db_index=False, default="", max_length=90),
            preserve_default=False,
        ),
        migrations.RunPython(slug_from_code, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="course",
            name="slug",
            field=models.SlugField(max_length=90, unique=True),
        ),
        migrations.AddField(
            model_name="course", name="starts_on", field=models.DateField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="course", name="ends_on", field=models.DateField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="course",
            name="state",
            field=models.CharField(
                choices=[
                    ("draft", "Draft (instructors only)"),
                    ("published", "Published"),
                    ("archived", "Archived (read-only)"),
                ],
                default="published",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="course", name="join_enabled", field=models.BooleanField(default=False)
        ),
        migrations.AddField(
            model_name="course",
            name="join_code",
            field=models.CharField(blank=True, db_index=True, default="", max_length=16),
        ),
        migrations.AddField(
            model_name="course",
            name="join_email_domain",
            field=models.CharField(blank=True, default="", max_length=120),
        ),
        migrations.AddField(
            model_name="course",
            name="join_section",
            field=models.CharField(blank=True, default="", max_length=60),
        ),
        migrations.AlterModelOptions(
            name="course",
            options={
                "ordering": ["code", "term"],
                "permissions": [("create_course", "Can create courses (course creator)")],
            },
        ),
        migrations.AddConstraint(
            model_name="course",
            constraint=models.UniqueConstraint(
                fields=("code", "term"), name="course_unique_code_per_term"
            ),
        ),
        migrations.AlterField(
            model_name="membership",
            name="role",
            field=models.CharField(
                choices=[
                    ("instructor", "Instructor"),
                    ("ta", "Teaching assistant"),
                    ("student", "Student"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="membership",
            name="section",
            field=models.CharField(blank=True, default="", max_length=60),
        ),
        migrations.AddField(
            model_name="membership", name="is_active", field=models.BooleanField(default=True)
        ),
        migrations.AddField(
            model_name="membership",
            name="unenrolled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
