// Xobito dashboard behaviour. Loaded on every page after htmx (deferred, in order).
// Everything here is progressive: every form and link also works without JavaScript.
// No inline handlers anywhere (CSP); behaviour hangs off data-* attributes.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // CSRF: read at send time, so a token rotated by a new page is never stale.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  // Validation errors come back as a re-rendered form (422, or a whole page without htmx):
  // focus its first invalid field.
  function focusInvalid(root) {
    var invalid = root.querySelector('[aria-invalid="true"]');
    if (invalid) invalid.focus();
  }
  document.addEventListener("DOMContentLoaded", function () { focusInvalid(document); });
  // (An outerHTML swap replaces the target: then look in the document.)
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    focusInvalid(target && target.isConnected ? target : document);
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;

    var toggle = target.closest(".nav-toggle");
    if (toggle) {
      var nav = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (nav) nav.toggleAttribute("data-open", open);
      return;
    }

    var dismiss = target.closest("[data-dismiss]");
    if (dismiss) {
      var toast = dismiss.closest(".toast");
      if (toast) toast.remove();
      return;
    }

    var copy = target.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.getAttribute("data-copy"));
      if (!source) return;
      var text = source.value !== undefined ? source.value : source.textContent;
      var done = function () {
        copy.textContent = "Copied";
        window.setTimeout(function () { copy.textContent = "Copy"; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { source.select(); });
      } else if (source.select) {
        source.select();
        document.execCommand("copy");
        done();
      }
    }
  });

  // A page answering a form post (a secret shown once) names its own address: the URL bar
  // shows it, and a reload gets that page without posting the form again.
  document.addEventListener("DOMContentLoaded", function () {
    var canonical = document.querySelector("[data-canonical-url]");
    if (canonical && window.location.pathname + window.location.search !== canonical.getAttribute("data-canonical-url")) {
      window.history.replaceState(null, "", canonical.getAttribute("data-canonical-url"));
    }
  });

  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute("data-select-on-focus")) {
      target.select();
    }
  });

  // Bulk selection: a "select all" box and the count of chosen rows.
  function updateBulk(form) {
    var boxes = form.querySelectorAll('input[name="ids[]"]');
    var chosen = form.querySelectorAll('input[name="ids[]"]:checked').length;
    var all = form.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && chosen === boxes.length;
      all.indeterminate = chosen > 0 && chosen < boxes.length;
    }
    var count = form.querySelector("[data-selected-count]");
    if (count) count.textContent = chosen === 1 ? "1 selected" : chosen + " selected";
    form.querySelectorAll("[data-needs-selection]").forEach(function (el) {
      el.disabled = chosen === 0;
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    var form = target.form;
    if (!form) return;
    if (target.hasAttribute("data-select-all")) {
      form.querySelectorAll('input[name="ids[]"]').forEach(function (box) {
        box.checked = target.checked;
      });
    }
    if (target.hasAttribute("data-select-all") || target.name === "ids[]") updateBulk(form);
  });

  function initBulk(root) {
    root.querySelectorAll("form[data-bulk]").forEach(updateBulk);
    if (root instanceof HTMLFormElement && root.hasAttribute("data-bulk")) updateBulk(root);
  }
  document.addEventListener("DOMContentLoaded", function () { initBulk(document); });
  document.addEventListener("htmx:load", function (event) { initBulk(event.detail.elt); });

  // Uploads: htmx reports XHR progress; a <progress data-upload-progress> in the form shows it.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target instanceof Element ? event.target.closest("form") : null;
    var bar = form ? form.querySelector("progress[data-upload-progress]") : null;
    if (bar && event.detail.lengthComputable) {
      bar.hidden = false;
      bar.max = 100;
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });

  // The inbox composer's boxes are one line and grow with their text: CSS field-sizing where
  // the browser has it, else here (max-height in inbox.css still caps them).
  if (!(window.CSS && CSS.supports("field-sizing", "content"))) {
    document.addEventListener("input", function (event) {
      var box = event.target;
      if (!(box instanceof HTMLTextAreaElement) || !box.closest(".composer")) return;
      box.style.height = "auto";
      box.style.height = box.scrollHeight + 2 + "px";
    });
  }

  // An export link follows the list's filters: the query string is the list's state, and
  // htmx changes it as filters, sort and pages change.
  function followQuery() {
    document.querySelectorAll("a[data-export-link]").forEach(function (link) {
      link.setAttribute("href", link.getAttribute("data-export-link") + window.location.search);
    });
  }
  document.addEventListener("htmx:pushedIntoHistory", followQuery);
  document.addEventListener("htmx:replacedInHistory", followQuery);

  // Success messages leave by themselves; errors stay until dismissed.
  function fadeToasts(root) {
    root.querySelectorAll(".toast:not(.toast-error)").forEach(function (toast) {
      window.setTimeout(function () { toast.remove(); }, 8000);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { fadeToasts(document); });
  document.addEventListener("htmx:oobAfterSwap", function (event) { fadeToasts(event.detail.target); });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "toasts") fadeToasts(event.detail.target);
  });

  // Live pages (one sse-connect per page): the connection state in #live-status, and
  // resuming from the last event seen. After a hard failure the SSE extension builds a new
  // EventSource that sends no Last-Event-ID, so its URL's "after=" is rewritten here.
  var lastEventId = null;
  document.addEventListener("htmx:sseMessage", function (event) {
    var id = event.detail && event.detail.lastEventId;
    if (id) lastEventId = id;
  });
  document.addEventListener("htmx:sseError", function () {
    var status = document.getElementById("live-status");
    if (status) status.hidden = false;
  });
  document.addEventListener("htmx:sseOpen", function () {
    var status = document.getElementById("live-status");
    if (status) status.hidden = true;
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.htmx || !window.htmx.createEventSource) return;
    var create = window.htmx.createEventSource;
    window.htmx.createEventSource = function (url) {
      if (lastEventId) {
        var u = new URL(url, window.location.href);
        u.searchParams.set("after", lastEventId);
        url = u.toString();
      }
      return create(url);
    };
  });

  // Inbox media: a file the server could not fetch (too large, Meta refused) becomes a
  // link to the media address, whose page says why.
  document.addEventListener("error", function (event) {
    var el = event.target;
    if (!(el instanceof Element) || !el.hasAttribute("data-media")) return;
    var link = document.createElement("a");
    link.href = el.getAttribute("src");
    link.textContent = "This file could not be shown here: open it to see why";
    var holder = el.closest("a.media-link") || el;
    holder.replaceWith(link);
  }, true);
  // Inbox composer: "Reply" on a customer's message quotes it in the next text sent.
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    var reply = target.closest("[data-reply-to]");
    var cancel = target.closest("[data-reply-cancel]");
    var form = document.querySelector("form[data-composer]");
    if (!form || !(reply || cancel)) return;
    var field = form.querySelector("[data-reply-field]");
    var shown = form.querySelector("[data-replying]");
    var text = form.querySelector("[data-replying-text]");
    if (reply) {
      field.value = reply.getAttribute("data-reply-to");
      text.textContent = "Replying to: " + reply.getAttribute("data-reply-text");
      shown.hidden = false;
    } else {
      field.value = "";
      shown.hidden = true;
    }
    form.querySelector("textarea[name=message_body]").focus();
  });

  // Saved replies: typing "/" (then part of a shortcut) in the composer lists the matching
  // replies; a click, or Enter on the highlighted one, puts its text in place of "/word".
  var SLASH = /(^|\s)\/([a-z0-9_-]*)$/i;
  function cannedState(box) {
    var list = box.form && box.form.querySelector("[data-canned-list]");
    if (!list) return null;
    var match = SLASH.exec(box.value.slice(0, box.selectionStart));
    return { list: list, match: match };
  }
  function cannedOptions(list) {
    return Array.prototype.filter.call(list.querySelectorAll("[data-canned-body]"), function (b) {
      return !b.closest("li").hidden;
    });
  }
  function cannedShow(box) {
    var state = cannedState(box);
    if (!state) return;
    var shown = 0;
    if (state.match) {
      var word = state.match[2].toLowerCase();
      state.list.querySelectorAll("[data-canned-body]").forEach(function (b) {
        var hit = b.getAttribute("data-canned-shortcut").indexOf(word) === 0;
        b.closest("li").hidden = !hit;
        b.removeAttribute("aria-current");
        if (hit) shown += 1;
      });
    }
    state.list.hidden = !state.match || shown === 0;
    var first = cannedOptions(state.list)[0];
    if (!state.list.hidden && first) first.setAttribute("aria-current", "true");
  }
  function cannedInsert(box, button) {
    var state = cannedState(box);
    var end = box.selectionStart;
    var start = state && state.match ? end - state.match[0].length + state.match[1].length : end;
    var body = button.getAttribute("data-canned-body");
    box.value = box.value.slice(0, start) + body + box.value.slice(end);
    box.selectionStart = box.selectionEnd = start + body.length;
    if (state) state.list.hidden = true;
    box.focus();
  }
  document.addEventListener("input", function (event) {
    if (event.target instanceof HTMLTextAreaElement && event.target.hasAttribute("data-canned-input")) {
      cannedShow(event.target);
    }
  });
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || !box.hasAttribute("data-canned-input")) return;
    var state = cannedState(box);
    if (!state || state.list.hidden) return;
    var options = cannedOptions(state.list);
    var at = options.findIndex(function (b) { return b.hasAttribute("aria-current"); });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var next = (at + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
      options.forEach(function (b, i) { b.toggleAttribute("aria-current", i === next); });
    } else if (event.key === "Enter" && at >= 0) {
      event.preventDefault();
      cannedInsert(box, options[at]);
    } else if (event.key === "Escape") {
      state.list.hidden = true;
    }
  });
  document.addEventListener("click", function (event) {
    var target = event.target;
    var button = target instanceof Element ? target.closest("[data-canned-body]") : null;
    if (!button) return;
    var box = button.form ? button.form.querySelector("[data-canned-input]") : null;
    if (box) cannedInsert(box, button);
  });
})();
