from django import forms

from gradebook.models import GradebookSettings, GradeCategory


class OverrideForm(forms.Form):
    override = forms.FloatField(required=False, min_value=0)
    excused = forms.BooleanField(required=False)
    reason = forms.CharField(max_length=1000, strip=True)


class ReleaseForm(forms.Form):
    released = forms.BooleanField(required=False)


class ManualItemForm(forms.Form):
    title = forms.CharField(max_length=255)
    points_possible = forms.FloatField(min_value=0)


class ScoresImportForm(forms.Form):
    file = forms.FileField()


class GridQueryForm(forms.Form):
    section = forms.CharField(required=False, max_length=60)
    sort = forms.ChoiceField(
        required=False, choices=[(s, s) for s in ("name", "-name", "total", "-total", "section")]
    )


def cutoffs_text(cutoffs: list) -> str:
    """The letter scheme as the settings form shows it: one `letter minimum` per line."""
    return "\n".join(f"{letter} {float(cutoff):g}" for letter, cutoff in cutoffs)


class SettingsForm(forms.Form):
    weighted = forms.BooleanField(required=False)
    letter_cutoffs = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=2000)
    lab_choice = forms.ChoiceField(choices=GradebookSettings.LabChoice.choices)
    homework_mode = forms.ChoiceField(choices=GradebookSettings.HomeworkMode.choices)

    def clean_letter_cutoffs(self) -> list:
        """Parse the lines; the order (descending, 0 last) is the service's check."""
        cutoffs = []
        for number, line in enumerate(self.cleaned_data["letter_cutoffs"].splitlines(), 1):
            if not line.strip():
                continue
            letter, _, value = line.strip().rpartition(" ")
            try:
                cutoffs.append([letter.strip(), float(value)])
            except ValueError:
                cutoffs.append(None)
            if not letter.strip() or cutoffs[-1] is None:
                raise forms.ValidationError(
                    f"Letter cut-offs, line {number}: write a letter and its minimum percent, "
                    "e.g. 'B 80'."
                )
        return cutoffs


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=100)
    weight = forms.FloatField(required=False, min_value=0)
    drop_lowest = forms.IntegerField(min_value=0, initial=0)
    drop_highest = forms.IntegerField(min_value=0, initial=0)
    late_deduct_percent = forms.FloatField(required=False, min_value=0, max_value=100)
    late_per = forms.ChoiceField(choices=GradeCategory.LatePer.choices)
    late_minimum_percent = forms.FloatField(min_value=0, max_value=100, initial=0)
    missing_as_zero = forms.BooleanField(required=False)


class ItemForm(forms.Form):
    category = forms.ModelChoiceField(queryset=GradeCategory.objects.none())
    points_possible = forms.FloatField(min_value=0)
    never_drop = forms.BooleanField(required=False)
    extra_credit = forms.BooleanField(required=False)
    lab_floor = forms.FloatField(required=False)
    lab_target = forms.FloatField(required=False)

    def __init__(self, *args, course, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = GradeCategory.objects.filter(course=course)
        self.fields["category"].error_messages["invalid_choice"] = (
            "Choose one of this course's categories."
        )

    def changes(self, item) -> dict:
        """The submitted fields; a lab's floor and target only for a lab."""
        data = dict(self.cleaned_data)
        floor, target = data.pop("lab_floor"), data.pop("lab_target")
        if item.kind == item.Kind.LAB:
            data["lab_floor"] = item.lab_floor if floor is None else floor
            data["lab_target"] = item.lab_target if target is None else target
        return data
