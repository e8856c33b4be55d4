// Coursebench labs: the model upload (drag and drop, checks before sending, a progress bar),
// confirmations and the dashboard charts. The server checks everything again; without this
// file the upload form posts normally and the pages still work.
"use strict";

(function () {
  const ARCHIVE_SUFFIXES = [".zip", ".tar.gz", ".tgz"];

  function formatBytes(bytes) {
    if (bytes >= 1024 * 1024) return (bytes / (1024 * 1024)).toFixed(1) + " MB";
    if (bytes >= 1024) return Math.round(bytes / 1024) + " KB";
    return bytes + " bytes";
  }

  function alertBox(text, kind) {
    const div = document.createElement("div");
    div.className = "alert alert-" + (kind || "error");
    div.setAttribute("role", "alert");
    div.textContent = text;
    return div;
  }

  // --- Upload ---------------------------------------------------------------------------------

  // What the server would say anyway, said before a large upload starts.
  function checkArchive(file, maxBytes) {
    if (!file) return "Choose the .zip of your save_pretrained folder first.";
    const name = file.name.toLowerCase();
    if (!ARCHIVE_SUFFIXES.some(function (suffix) { return name.endsWith(suffix); })) {
      return "“" + file.name + "” is not a .zip or .tar.gz archive. Zip the folder written by " +
        "save_pretrained (config.json, the .safetensors weights, the tokenizer files) and upload that.";
    }
    if (file.size === 0) return "“" + file.name + "” is empty.";
    if (maxBytes && file.size > maxBytes) {
      return "“" + file.name + "” is " + formatBytes(file.size) + "; this lab accepts at most " +
        formatBytes(maxBytes) + ". Leave out checkpoints and optimizer states: keep only the " +
        "save_pretrained files.";
    }
    return null;
  }

  function uploadedNotice(fileName, card) {
    const box = alertBox("", "success");
    box.setAttribute("role", "status");
    const link = document.createElement("a");
    link.href = "#" + card.id;
    link.textContent = card.querySelector("h3").textContent.trim();
    box.append("Uploaded " + fileName + ": ", link, " is queued. Its status below updates by itself.");
    return box;
  }

  function initUpload(form) {
    const input = form.querySelector('input[type="file"]');
    const zone = form.querySelector("[data-dropzone]");
    const fileLabel = form.querySelector("[data-file-name]");
    const errors = form.querySelector("#upload-errors");
    const progressBox = form.querySelector("[data-progress]");
    const progress = progressBox.querySelector("progress");
    const progressText = progressBox.querySelector("[data-progress-text]");
    const button = form.querySelector("[data-submit]");
    const notice = form.querySelector("[data-upload-notice]");
    const maxBytes = Number(form.dataset.maxBytes || 0);
    let busy = false;

    function showError(node) {
      errors.replaceChildren(node);
    }

    function describe() {
      const file = input.files && input.files[0];
      fileLabel.textContent = file ? file.name + " · " + formatBytes(file.size) : "";
      errors.replaceChildren();
      if (file) {
        const problem = checkArchive(file, maxBytes);
        if (problem) showError(alertBox(problem));
      }
    }

    input.addEventListener("change", describe);

    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("is-over");
      });
    });
    ["dragleave", "dragend", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("is-over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      const files = event.dataTransfer && event.dataTransfer.files;
      if (!files || !files.length) return;
      const transfer = new DataTransfer();
      transfer.items.add(files[0]);
      input.files = transfer.files;
      describe();
    });

    function finish() {
      busy = false;
      button.disabled = false;
      form.classList.remove("is-uploading");
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) return;
      const file = input.files && input.files[0];
      const problem = checkArchive(file, maxBytes);
      if (problem) {
        showError(alertBox(problem));
        return;
      }
      busy = true;
      button.disabled = true;
      form.classList.add("is-uploading");
      errors.replaceChildren();
      notice.replaceChildren();
      progress.value = 0;
      progressText.textContent = "0%";
      progressBox.hidden = false;

      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("HX-Request", "true");
      xhr.setRequestHeader("HX-Current-URL", window.location.href);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        const percent = Math.round((e.loaded / e.total) * 100);
        progress.value = percent;
        progressText.textContent = percent < 100 ? percent + "%" : "Uploaded; checking…";
      });
      xhr.addEventListener("load", function () {
        finish();
        progressBox.hidden = true;
        const redirect = xhr.getResponseHeader("HX-Redirect");
        if (redirect) {
          window.location.href = redirect;
          return;
        }
        if (xhr.status === 201) {
          const list = document.getElementById("submission-list");
          window.htmx.swap(list, xhr.responseText, { swapStyle: "afterbegin" });
          const card = list.firstElementChild;
          if (card) window.htmx.process(card);
          const empty = document.querySelector(".sub-empty");
          if (empty) empty.hidden = true;
          form.reset();
          fileLabel.textContent = "";
          if (card) {
            // Say so where the student is looking, then bring the new card into view.
            notice.replaceChildren(uploadedNotice(file.name, card));
            card.scrollIntoView({ block: "center" });
          }
          return;
        }
        const box = document.createElement("div");
        if (xhr.status >= 400 && xhr.status < 500 && /^\s*</.test(xhr.responseText)) {
          box.innerHTML = xhr.responseText; // a server-rendered (escaped) error fragment
          showError(box);
        } else {
          showError(alertBox("The upload failed (error " + xhr.status + "). Try again in a moment."));
        }
      });
      xhr.addEventListener("error", function () {
        finish();
        progressBox.hidden = true;
        showError(alertBox("The upload failed: the server could not be reached. Check your connection and try again."));
      });
      xhr.send(new FormData(form));
    });
  }

  // --- Confirmations ----------------------------------------------------------------------------
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // --- Dashboard charts (Chart.js, served from static/vendor) -----------------------------------
  const PALETTE = ["#b3261e", "#d49b00", "#7b3fb5", "#0f7c8c", "#c2571a", "#5b6475", "#9c2f6b", "#3b6e1f"];

  function cssVar(name, fallback) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
  }

  function drawCharts() {
    const source = document.getElementById("lab-chart-data");
    if (!source || typeof window.Chart !== "function") return;
    const data = JSON.parse(source.textContent);
    const accent = cssVar("--accent", "#2f54c8");
    const ok = cssVar("--ok", "#1b7a45");
    const base = { responsive: true, maintainAspectRatio: false, animation: false };

    const histogram = document.getElementById("score-histogram");
    if (histogram) {
      new window.Chart(histogram, {
        type: "bar",
        data: {
          labels: data.histogram.labels,
          datasets: [
            { label: "Public part", data: data.histogram.public, backgroundColor: accent },
            { label: "Private part", data: data.histogram.private, backgroundColor: "#9aa9dc" },
          ],
        },
        options: Object.assign({}, base, {
          scales: {
            x: { title: { display: true, text: data.metric } },
            y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Students" } },
          },
        }),
      });
    }

    const best = document.getElementById("best-over-time");
    if (best) {
      new window.Chart(best, {
        type: "line",
        data: {
          labels: data.best.labels,
          datasets: [
            { label: "Public part", data: data.best.public, borderColor: accent, backgroundColor: accent, stepped: true, spanGaps: true },
            { label: "Private part", data: data.best.private, borderColor: "#9aa9dc", backgroundColor: "#9aa9dc", stepped: true, spanGaps: true },
          ],
        },
        options: Object.assign({}, base, {
          scales: { y: { suggestedMin: 0, suggestedMax: 1, title: { display: true, text: "Best " + data.metric } } },
        }),
      });
    }

    const perDay = document.getElementById("per-day");
    if (perDay) {
      const datasets = [{ label: "Scored", data: data.days.scored, backgroundColor: ok, stack: "all" }];
      Object.keys(data.days.failed).forEach(function (code, i) {
        datasets.push({ label: "Failed: " + code, data: data.days.failed[code], backgroundColor: PALETTE[i % PALETTE.length], stack: "all" });
      });
      new window.Chart(perDay, {
        type: "bar",
        data: { labels: data.days.labels, datasets: datasets },
        options: Object.assign({}, base, {
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        }),
      });
    }
  }

  function init() {
    const form = document.getElementById("upload-form");
    if (form) initUpload(form);
    drawCharts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
