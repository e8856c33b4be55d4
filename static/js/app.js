// Coursebench portal: small progressive enhancements. Everything works without this file.
"use strict";

(function () {
  function errorBox() {
    return document.getElementById("htmx-errors");
  }

  function showError(text) {
    const box = errorBox();
    if (!box) return;
    box.replaceChildren();
    const alert = document.createElement("div");
    alert.className = "alert alert-error";
    alert.textContent = text;
    box.appendChild(alert);
  }

  // Error fragments from core.middleware come with HX-Retarget (#htmx-errors): show them.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const xhr = event.detail.xhr;
    if (xhr.status >= 400 && xhr.getResponseHeader("HX-Retarget")) {
      event.detail.shouldSwap = true;
    }
  });

  // A failed save: put the form back to what the server last rendered, and say so.
  document.addEventListener("htmx:responseError", function (event) {
    const form = event.detail.elt.closest("form");
    if (form) form.reset();
    if (!event.detail.xhr.getResponseHeader("HX-Retarget")) {
      showError("Not saved (error " + event.detail.xhr.status + "). Reload the page and try again.");
    }
  });

  document.addEventListener("htmx:sendError", function (event) {
    const form = event.detail.elt.closest("form");
    if (form) form.reset();
    showError("Not saved: the server could not be reached. Check your connection and try again.");
  });

  // A successful save clears an earlier error. Swaps made with htmx.swap() (e.g. the lab
  // upload's XHR) carry no xhr in their event detail.
  document.addEventListener("htmx:afterSwap", function (event) {
    const box = errorBox();
    const xhr = event.detail && event.detail.xhr;
    if (box && xhr && event.detail.target !== box && xhr.status < 400) {
      box.replaceChildren();
    }
  });

  // Copy buttons: <button data-copy="#selector">.
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const source = document.querySelector(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  // LTI deep linking: the reply to the LMS is a form posted back to it (no inline script:
  // the CSP forbids it). Without JavaScript its button does the same.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.submit();
  });
})();
