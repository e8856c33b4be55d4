from django import forms


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
