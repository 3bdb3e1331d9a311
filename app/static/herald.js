// Small progressive enhancements; every screen works without this file.
(function () {
  "use strict";

  // Pages are rendered in the browser's time zone: the server reads it from this cookie
  // (app/web/timezones.py). Set on every page so a changed zone is picked up next time.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    // IANA names are letters, digits, "/", "_", "+" and "-": all allowed in a cookie as is.
    if (zone && /^[A-Za-z0-9\/_+-]+$/.test(zone) &&
        document.cookie.split("; ").indexOf("herald_tz=" + zone) === -1) {
      document.cookie = "herald_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* an old browser: pages stay in UTC, and say so */ }

  // Forms that destroy or change something ask first: <form data-confirm="text">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var text = (submitter && submitter.getAttribute("data-confirm")) ||
      form.getAttribute("data-confirm");
    if (text && !window.confirm(text)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Typing an Until date chooses "Until date" rather than Forever (wizard, Schedule step).
  document.addEventListener("input", function (event) {
    var t = event.target;
    if (t.id === "until" && t.value && t.form) {
      var choice = t.form.querySelector("input[name=until_mode][value=date]");
      if (choice) choice.checked = true;
    }
  });

  // Copy buttons: <button data-copy="#id"> copies that element's text.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.textContent.trim();
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(source, done); });
    } else {
      fallbackCopy(source, done);
    }
  });
  function fallbackCopy(source, done) {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    if (document.execCommand("copy")) done();
  }

  // Placeholder buttons insert their text at the cursor of the last focused field.
  var lastField = null;
  document.addEventListener("focusin", function (event) {
    var t = event.target;
    if (t.matches && t.matches("input[type=text], input:not([type]), textarea")) lastField = t;
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-insert]");
    if (!button || !lastField) return;
    var text = button.getAttribute("data-insert");
    var start = lastField.selectionStart || 0, end = lastField.selectionEnd || 0;
    lastField.value = lastField.value.slice(0, start) + text + lastField.value.slice(end);
    lastField.focus();
    lastField.setSelectionRange(start + text.length, start + text.length);
  });

  // Inline handlers are not allowed (the Content-Security-Policy has no 'unsafe-inline'):
  // the few controls that react to a change say so with data- attributes, handled here.
  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t.matches("select[data-submit-on-change]") && t.form) {
      t.form.requestSubmit ? t.form.requestSubmit() : t.form.submit();
    }
    var selector = t.getAttribute("data-select-all");
    if (selector) {
      document.querySelectorAll(selector).forEach(function (box) { box.checked = t.checked; });
    }
    var counted = t.closest && t.closest("[data-deliver-count]");
    var button = document.getElementById("deliver-button");
    if (counted && button) {
      var n = counted.querySelectorAll("input[name=entry_id]:checked").length;
      button.textContent = "Deliver (" + n + " selected)";
    }
  });

  // Copy buttons are shown only where they work (they need this script).
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy][hidden]").forEach(function (b) { b.hidden = false; });
  });
})();

// Review queue keyboard: j/k move between rows, a approves, r rejects, x selects.
(function () {
  "use strict";
  function rows() { return Array.from(document.querySelectorAll("tr.review-row")); }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    var all = rows();
    if (!all.length) return;
    var current = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("tr.review-row") : null;
    var index = all.indexOf(current);
    if (event.key === "j" || event.key === "k") {
      var next = event.key === "j" ? Math.min(index + 1, all.length - 1) : Math.max(index - 1, 0);
      all[next].focus();
      event.preventDefault();
    } else if (current && (event.key === "a" || event.key === "r")) {
      var button = current.querySelector('[data-key="' + event.key + '"]');
      if (button) { button.click(); event.preventDefault(); }
    } else if (current && event.key === "x") {
      var box = current.querySelector("input[type=checkbox]");
      if (box) { box.checked = !box.checked; event.preventDefault(); }
    }
  });
})();
