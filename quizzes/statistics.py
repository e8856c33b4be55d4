"""Quiz and question statistics as Moodle computes them: plain Python, no database.

Follows Moodle's "Quiz statistics calculations" (mod/quiz/report/statistics): S attempts,
P questions (slots), x_i(s) the mark of attempt s on question i, T(s) = Σ_i x_i(s) its total
and X_i(s) = T(s) - x_i(s) the rest of the test.

Per question
    facility F_i        = 100 · mean(x_i) / max_i
    SD_i                = sqrt(Σ (x_i - mean)² / (S - 1)), also as % of max_i
    discrimination D_i  = 100 · C(x_i, X_i) / sqrt(V(x_i) · V(X_i))
    discriminative efficiency DE_i = 100 · C(x_i, X_i) / C_max(x_i, X_i), where C_max pairs
                          the sorted x_i with the sorted X_i (the most covariance possible)
    with V and C sample (co)variances (divide by S - 1).

Per quiz (totals T)
    mean, median, SD = sqrt(Σ (T - mean)² / (S - 1))
    m_k = Σ (T - mean)^k / S, k2 = S·m2/(S-1), k3 = S²·m3/((S-1)(S-2)),
    k4 = S²·((S+1)·m4 - 3(S-1)·m2²)/((S-1)(S-2)(S-3))
    skewness = k3 / k2^(3/2), kurtosis = k4 / k2²
    CIC (Cronbach's alpha, %) = 100 · P/(P-1) · (1 - Σ_i V(x_i) / k2)
    error ratio ER = 100 · sqrt(1 - CIC/100), standard error SE = ER/100 · SD

A statistic that needs more attempts (or questions) than there are, or would divide by zero,
is None, as Moodle leaves it blank.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class QuestionStatistics:
    slot: int
    count: int
    max_mark: float
    mean: float | None
    facility: float | None  # percent
    sd: float | None  # in marks
    sd_percent: float | None
    discrimination_index: float | None  # percent
    discriminative_efficiency: float | None  # percent


@dataclass(frozen=True)
class QuizStatistics:
    count: int
    max_score: float
    mean: float | None
    median: float | None
    sd: float | None
    skewness: float | None
    kurtosis: float | None
    cic: float | None  # percent
    error_ratio: float | None  # percent
    standard_error: float | None  # in marks

    def percent(self, value: float | None) -> float | None:
        """A mark statistic (mean, median, sd, standard error) as % of the maximum."""
        if value is None or not self.max_score:
            return None
        return 100 * value / self.max_score


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _covariance(xs: Sequence[float], ys: Sequence[float]) -> float:
    mx, my = _mean(xs), _mean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / (len(xs) - 1)


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def question_statistics(
    slot: int, marks: Sequence[float], rest: Sequence[float], max_mark: float
) -> QuestionStatistics:
    """`marks` are x_i(s); `rest` are X_i(s) for the same attempts, in the same order."""
    s = len(marks)
    mean = _mean(marks) if s else None
    facility = 100 * mean / max_mark if mean is not None and max_mark else None
    sd = sd_percent = discrimination = efficiency = None
    if s > 1:
        variance = _covariance(marks, marks)
        rest_variance = _covariance(rest, rest)
        covariance = _covariance(marks, rest)
        sd = math.sqrt(variance)
        sd_percent = 100 * sd / max_mark if max_mark else None
        if variance * rest_variance > 0:
            discrimination = 100 * covariance / math.sqrt(variance * rest_variance)
        covariance_max = _covariance(sorted(marks), sorted(rest))
        if covariance_max:
            efficiency = 100 * covariance / covariance_max
    return QuestionStatistics(
        slot=slot,
        count=s,
        max_mark=max_mark,
        mean=mean,
        facility=facility,
        sd=sd,
        sd_percent=sd_percent,
        discrimination_index=discrimination,
        discriminative_efficiency=efficiency,
    )


def quiz_statistics(
    totals: Sequence[float], *, max_score: float, item_variances: Sequence[float]
) -> QuizStatistics:
    """`item_variances` are the sample variances V(x_i) of each question, for the CIC."""
    s = len(totals)
    p = len(item_variances)
    mean = _mean(totals) if s else None
    median = _median(totals) if s else None
    sd = skewness = kurtosis = cic = error_ratio = standard_error = None
    if s > 1:
        power2 = sum((t - mean) ** 2 for t in totals)
        sd = math.sqrt(power2 / (s - 1))
    if s > 2:
        m2 = power2 / s
        m3 = sum((t - mean) ** 3 for t in totals) / s
        m4 = sum((t - mean) ** 4 for t in totals) / s
        k2 = s * m2 / (s - 1)
        k3 = s * s * m3 / ((s - 1) * (s - 2))
        if k2:
            skewness = k3 / k2**1.5
            if s > 3:
                k4 = s * s * ((s + 1) * m4 - 3 * (s - 1) * m2 * m2) / ((s - 1) * (s - 2) * (s - 3))
                kurtosis = k4 / (k2 * k2)
            if p > 1:
                cic = 100 * p / (p - 1) * (1 - sum(item_variances) / k2)
                # A CIC above 100 cannot happen with real data; below 0 it can, and then the
                # error ratio is undefined, as in Moodle.
                if cic <= 100:
                    error_ratio = 100 * math.sqrt(1 - cic / 100)
                    standard_error = error_ratio * sd / 100
    return QuizStatistics(
        count=s,
        max_score=max_score,
        mean=mean,
        median=median,
        sd=sd,
        skewness=skewness,
        kurtosis=kurtosis,
        cic=cic,
        error_ratio=error_ratio,
        standard_error=standard_error,
    )


def compute(
    marks: Sequence[Sequence[float]], max_marks: Sequence[float], slots: Sequence[int]
) -> tuple[QuizStatistics, list[QuestionStatistics]]:
    """Statistics from a matrix of marks: one row per attempt, one column per slot."""
    totals = [sum(row) for row in marks]
    questions = []
    for column, (slot, max_mark) in enumerate(zip(slots, max_marks, strict=True)):
        xs = [row[column] for row in marks]
        rest = [total - x for total, x in zip(totals, xs, strict=True)]
        questions.append(question_statistics(slot, xs, rest, max_mark))
    variances = [q.sd**2 for q in questions if q.sd is not None]
    quiz = quiz_statistics(
        totals,
        max_score=sum(max_marks),
        item_variances=variances if len(variances) == len(questions) else [],
    )
    return quiz, questions
