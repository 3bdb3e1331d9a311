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
  document.addEventListener("focusin", function (event) {
    var holder = event.target.closest && event.target.closest(".rich-text");
    if (holder && holder.quill) lastField = holder;
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-insert]");
    if (!button || !lastField) return;
    var text = button.getAttribute("data-insert");
    if (lastField.quill) {  // a rich-text editor: insert at its last cursor position
      var range = lastField.quill.getSelection(true);
      lastField.quill.insertText(range ? range.index : 0, text, "user");
      return;
    }
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

  // Rich-text email messages: Quill (app/static/quill, see VENDORED.md) is loaded only on
  // pages with such a field; the textarea stays the form field and gets the editor's HTML.
  var TOOLBAR = [[{ header: [1, 2, 3, false] }], ["bold", "italic", "underline", "strike"],
    [{ list: "ordered" }, { list: "bullet" }], ["link", "blockquote"], ["clean"]];
  function loadQuill(area, done) {
    if (window.Quill) { done(); return; }
    if (!document.querySelector("link[data-quill]")) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = area.getAttribute("data-quill-css");
      link.setAttribute("data-quill", "");
      document.head.appendChild(link);
    }
    var script = document.querySelector("script[data-quill]");
    if (!script) {
      script = document.createElement("script");
      script.src = area.getAttribute("data-quill-js");
      script.setAttribute("data-quill", "");
      document.head.appendChild(script);
    }
    script.addEventListener("load", done);
  }
  function mountEditor(area) {
    if (area.hasAttribute("data-mounted")) return;
    area.setAttribute("data-mounted", "");
    var holder = document.createElement("div");
    holder.className = "rich-text";
    area.after(holder);
    var quill = new window.Quill(holder, { theme: "snow", modules: { toolbar: TOOLBAR } });
    quill.clipboard.dangerouslyPasteHTML(area.value, "silent");
    quill.root.setAttribute("role", "textbox");
    quill.root.setAttribute("aria-multiline", "true");
    var label = document.querySelector('label[for="' + area.id + '"]');
    if (label) quill.root.setAttribute("aria-label", label.textContent);
    holder.quill = quill;
    // The placeholder picker inserts into the editor last worked in (Quill tracks its own
    // selection; a contenteditable's focus events are not reliable across browsers).
    quill.on("selection-change", function (range) { if (range) lastField = holder; });
    area.hidden = true;
    quill.on("text-change", function () {
      // Quill 2.0.3's getSemanticHTML writes every space as &nbsp;: keep plain spaces.
      // Its cursor placeholder (a span around U+FEFF) is no part of the message either.
      var html = quill.getSemanticHTML().replace(/&nbsp;/g, " ")
        .replace(/<span class="ql-cursor">[^<]*<\/span>/g, "");
      area.value = quill.getLength() > 1 ? html : "";
    });
  }
  function richText(root) {
    if (!root.querySelectorAll) return;
    var areas = Array.prototype.slice.call(root.querySelectorAll("textarea[data-rich-text]"));
    if (!areas.length) return;
    loadQuill(areas[0], function () { areas.forEach(mountEditor); });
  }

  document.addEventListener("DOMContentLoaded", function () { richText(document); });
  document.addEventListener("htmx:afterSwap", function (event) { richText(event.target); });

  // The template screen's live preview refreshes 800 ms after typing stops, and replaces a
  // preview request in flight (hx-sync="this:replace"). A click on Preview or Generate
  // summary within those 800 ms sends the same values, so the late refresh only repeated
  // the work and, worse, aborted or overwrote the summary the model had just been asked
  // for. A refresh with no typing since the last such click is therefore skipped.
  var previewInputs = 0, previewInputsAtClick = -1;
  document.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("#template-form")) previewInputs += 1;
  }, true);
  document.addEventListener("htmx:configRequest", function (event) {
    var id = event.detail.elt && event.detail.elt.id;
    if (id === "preview-button" || id === "summary-button") {
      previewInputsAtClick = previewInputs;
    } else if (id === "preview-panel" && previewInputs === previewInputsAtClick) {
      event.preventDefault();
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
    // Keys typed into a field are text; a checkbox just ticked (a row's, the header's) takes none.
    var ticked = tag === "input" && (event.target.type === "checkbox" || event.target.type === "radio");
    if ((tag === "input" && !ticked) || tag === "textarea" || tag === "select") return;
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

// A held entry's page: a approves, r rejects, j / → next held entry, k / ← previous.
(function () {
  "use strict";
  var keys = { j: "next", ArrowRight: "next", k: "prev", ArrowLeft: "prev" };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return;
    var pane = document.querySelector("[data-review-keys]");
    if (!pane) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) return;
    var target = null;
    if (keys[event.key]) target = pane.querySelector('[data-nav="' + keys[event.key] + '"]');
    else if (event.key === "a" || event.key === "r") target = pane.querySelector('[data-key="' + event.key + '"]');
    if (target) { event.preventDefault(); target.click(); }
  });
})();

// The wizard: a step left by a link before "Save step" loses what was typed or added there
// (the draft keeps only saved steps), so ask first. The server marks a step it showed again
// unsaved (a row added, errors); typing marks it here.
(function () {
  "use strict";
  var QUESTION = "Leave this step without saving it? What you changed here will be lost.";
  function unsavedStep(elt) {
    var form = document.getElementById("wizard-form");
    return form && form.dataset.unsaved === "true" && !form.contains(elt);
  }
  function markUnsaved(event) {
    var form = document.getElementById("wizard-form");
    if (form && form.contains(event.target)) form.dataset.unsaved = "true";
  }
  document.addEventListener("input", markUnsaved);
  document.addEventListener("change", markUnsaved);
  // A boosted link (the step list): htmx asks before its request; go on only when told to.
  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    if (elt.tagName !== "A" || !unsavedStep(elt)) return;
    event.preventDefault();
    if (window.confirm(QUESTION)) event.detail.issueRequest(true);
  });
  // Any other link (the top bar's): the browser's own navigation.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    var boosted = link && link.closest("[hx-boost]");
    if (!link || (boosted && boosted.getAttribute("hx-boost") === "true")) return;
    if (unsavedStep(link) && !window.confirm(QUESTION)) event.preventDefault();
  });
})();
