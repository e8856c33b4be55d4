// Coursebench quizzes: the attempt countdown, autosave status, confirmations and the grade
// histogram. The server enforces the deadline; this only shows it and submits on time.
"use strict";

(function () {
  // --- Countdown ---------------------------------------------------------------------------
  // Counts down from the seconds the server computed (not the device's clock, which may be
  // wrong), and submits the attempt when time runs out.
  const SUBMIT_EARLY_MS = 1000; // so the last answers arrive before the deadline
  const WARN_AT_S = 60;
  const ANNOUNCE_AT_S = [300, 60];

  function formatClock(seconds) {
    const s = Math.max(0, Math.ceil(seconds));
    const hours = Math.floor(s / 3600);
    const minutes = Math.floor((s % 3600) / 60);
    const secs = s % 60;
    const pad = function (n) { return String(n).padStart(2, "0"); };
    return hours ? hours + ":" + pad(minutes) + ":" + pad(secs) : minutes + ":" + pad(secs);
  }

  function autoSubmit(selector) {
    const form = document.querySelector(selector);
    if (!form || form.dataset.submitting) return;
    form.dataset.submitting = "1";
    if (form.dataset.submitUrl) form.action = form.dataset.submitUrl;
    const box = document.getElementById("htmx-errors");
    if (box) {
      const note = document.createElement("div");
      note.className = "alert alert-warning";
      note.textContent = "Time is up: submitting your answers…";
      box.replaceChildren(note);
    }
    HTMLFormElement.prototype.submit.call(form);
    // The submission has taken its answers: no new ones from here on (the server's network
    // grace only covers saves already sent, it is not extra time).
    form.inert = true;
  }

  function startCountdown(timer) {
    const display = timer.querySelector("[data-countdown]");
    const announce = document.getElementById("timer-announce");
    const endsAt = performance.now() + Number(timer.dataset.secondsLeft) * 1000;
    const announced = new Set();
    function tick() {
      const left = (endsAt - performance.now()) / 1000;
      display.textContent = formatClock(left);
      timer.classList.toggle("is-low", left <= WARN_AT_S);
      ANNOUNCE_AT_S.forEach(function (mark) {
        if (left <= mark && left > mark - 5 && !announced.has(mark) && announce) {
          announced.add(mark);
          announce.textContent = (mark / 60) + " minute" + (mark === 60 ? "" : "s") + " left.";
        }
      });
      if (left * 1000 <= SUBMIT_EARLY_MS) {
        display.textContent = formatClock(0);
        timer.classList.add("is-up");
        if (timer.dataset.autoSubmit) autoSubmit(timer.dataset.autoSubmit);
        return;
      }
      window.setTimeout(tick, 250);
    }
    tick();
  }

  // --- Autosave -----------------------------------------------------------------------------
  // A failed autosave keeps what the student typed (app.js would reset the form) and says so
  // next to the question.
  function saveStatusFor(event) {
    const fieldset = event.target.closest && event.target.closest("fieldset.answer");
    return fieldset ? fieldset.querySelector(".save-status") : null;
  }

  function notSaved(event, text) {
    const status = saveStatusFor(event);
    if (!status) return;
    event.stopPropagation();
    const span = document.createElement("span");
    span.className = "save-error";
    span.textContent = text;
    status.replaceChildren(span);
  }

  function guardAttemptForm(form) {
    form.addEventListener("htmx:responseError", function (event) {
      notSaved(event, "Not saved (error " + event.detail.xhr.status + "). It will be saved when you finish.");
    });
    form.addEventListener("htmx:sendError", function (event) {
      notSaved(event, "Not saved: no connection. Keep this page open and try again.");
    });
    // "Clear my choice" for radio buttons.
    form.addEventListener("click", function (event) {
      const button = event.target.closest("[data-clear]");
      if (!button) return;
      const radios = form.querySelectorAll('input[name="' + button.dataset.clear + '"]');
      let changed = false;
      radios.forEach(function (radio) {
        if (radio.checked) { radio.checked = false; changed = true; }
      });
      if (changed && radios.length) {
        radios[0].dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
    // Enter in a text answer must not finish the attempt.
    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.matches("input[type=text]")) event.preventDefault();
    });
  }

  // --- Confirmations --------------------------------------------------------------------------
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // --- Grade histogram --------------------------------------------------------------------------
  function drawHistogram(canvas) {
    const source = document.getElementById("histogram-data");
    if (!source || typeof window.Chart !== "function") return;
    const data = JSON.parse(source.textContent);
    const accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim();
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: "Students", data: data.counts, backgroundColor: accent || "#2f54c8" }],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { title: { display: true, text: "Grade (% of the maximum)" } },
          y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Students" } },
        },
      },
    });
  }

  function init() {
    const timer = document.getElementById("quiz-timer");
    if (timer) startCountdown(timer);
    const form = document.getElementById("attempt-form");
    if (form) guardAttemptForm(form);
    const canvas = document.getElementById("grade-histogram");
    if (canvas) drawHistogram(canvas);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
