/* Sift's customer help widget: one script tag on any site (docs/widget.md).
 *
 *   <script src="https://sift.example/widget.js" data-sift-key="KEY" defer></script>
 *
 * Optional: data-language="hr" (else the visitor's browser languages), data-brand="#0b5394" (the launcher's
 * colour; white text must read on it at 4.5:1), data-kb="brand" (another knowledge base).
 *
 * It renders into a Shadow DOM, so the host page's styles and ours cannot clash, and it calls Sift from the
 * host page: the browser sends that page's Origin, so the key answers only on the sites it names. Plain
 * JavaScript, nothing loaded from elsewhere. /widget.js serves this file with the strings filled in.
 */
(function () {
  "use strict";
  var STRINGS = {/*SIFT_STRINGS*/};
  var ENDONYMS = {/*SIFT_ENDONYMS*/};
  var DEBOUNCE_MS = 250;
  var MIN_CONFIDENCE = 0.01;  // and a tenth of the best one's: the rest shares words, not the answer
  var FALLBACK_SHOWN = 3;     // nothing that confident: the best few anyway, it is a search box
  var REPORT_SEARCH_MS = 1500;
  var script = document.currentScript;
  if (!script || window.__siftWidget) { return; }
  var data = script.dataset;
  var base = new URL(script.src, document.baseURI).origin;
  var key = data.siftKey || "";
  var kb = data.kb || "";
  var brand = /^#[0-9a-fA-F]{3,8}$/.test(data.brand || "") ? data.brand : "#1d4ed8";

  function supported(tag) {
    if (!tag) { return null; }
    var code = String(tag).toLowerCase().split(/[-_]/)[0];
    if (code === "nb" || code === "nn") { code = "no"; }
    return Object.prototype.hasOwnProperty.call(STRINGS, code) ? code : null;
  }
  function browserLanguage() {
    var tags = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
    for (var i = 0; i < tags.length; i++) { var c = supported(tags[i]); if (c) { return c; } }
    return "en";
  }
  var lang = supported(data.language) || browserLanguage();
  var session = (function () {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  })();
  function t(name, values) {
    var s = (STRINGS[lang] || STRINGS.en)[name] || STRINGS.en[name] || name;
    return s.replace(/\{(\w+)\}/g, function (_, k) { return values && k in values ? values[k] : ""; });
  }

  /* ---------------------------------------------------------------- calls to Sift */
  function headers(json) {
    var h = {};
    if (key) { h["X-API-Key"] = key; }
    if (json) { h["Content-Type"] = "application/json"; }
    return h;
  }
  function getJSON(path) {
    return fetch(base + path, { headers: headers(false), credentials: "omit" }).then(function (r) {
      return r.json().then(function (body) { return { status: r.status, body: body }; });
    });
  }
  function postJSON(path, payload, keepalive) {
    return fetch(base + path, {
      method: "POST", headers: headers(true), credentials: "omit", body: JSON.stringify(payload), keepalive: !!keepalive
    }).then(function (r) {
      return r.json().then(function (body) { return { status: r.status, body: body }; }, function () {
        return { status: r.status, body: {} };
      });
    });
  }
  function record(kind, extra) {
    var payload = { kind: kind, session: session, language: lang };
    if (kb) { payload.kb = kb; }
    for (var k in extra || {}) { payload[k] = extra[k]; }
    // keepalive: an event sent as the visitor leaves the page still arrives.
    return postJSON("/v1/widget/events", payload, true).catch(function () { /* figures only: never bother the visitor */ });
  }

  /* ---------------------------------------------------------------- the DOM */
  var host = document.createElement("div");
  host.id = "sift-help-widget";
  host.setAttribute("data-sift", "widget");
  var root = host.attachShadow({ mode: "open" });
  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box}",
    ".w{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1a1a1a}",
    ".launcher{position:fixed;right:16px;bottom:16px;z-index:2147483000;border:0;border-radius:999px;",
    "padding:12px 20px;font:inherit;font-weight:600;color:#fff;background:var(--brand);cursor:pointer;",
    "box-shadow:0 2px 8px rgba(0,0,0,.3)}",
    ".panel{position:fixed;right:16px;bottom:80px;z-index:2147483001;width:min(420px,calc(100vw - 32px));",
    "max-height:calc(100vh - 100px);display:flex;flex-direction:column;overflow:hidden;background:#fff;",
    "border:1px solid #6b6b6b;border-radius:12px;box-shadow:0 8px 28px rgba(0,0,0,.28)}",
    ".scroll{overflow:auto;min-height:0;flex:1 1 auto;padding:16px}",
    "@media (max-width:520px),(max-height:520px){.panel{inset:0;width:100%;max-height:none;height:100%;",
    "border-radius:0;border:0}}",
    "[hidden]{display:none!important}",
    ".head{display:flex;align-items:center;justify-content:space-between;gap:8px;margin-bottom:8px}",
    "h2{font-size:1.25rem;margin:0;line-height:1.3}",
    "h3{font-size:1.125rem;margin:8px 0;line-height:1.3}",
    "h4{font-size:1rem;margin:12px 0 4px}",
    "button,input,select,textarea{font:inherit;color:inherit}",
    "button{cursor:pointer}",
    ".close{border:1px solid #6b6b6b;background:#fff;border-radius:8px;min-width:44px;min-height:44px;font-size:1.25rem}",
    ".row{display:flex;align-items:center;gap:8px;margin:4px 0 12px;flex-wrap:wrap}",
    "label{display:block;font-weight:600;margin:8px 0 4px}",
    ".row label{display:inline;margin:0}",
    "input,select,textarea{border:1px solid #6b6b6b;border-radius:8px;padding:8px 10px;background:#fff;min-height:44px}",
    "input,textarea{width:100%}",
    "textarea{min-height:120px;resize:vertical}",
    ".hint{font-size:.875rem;color:#4a4a4a;margin:0 0 6px}",
    ".status{font-size:.875rem;color:#4a4a4a;min-height:1.5em;margin:6px 0}",
    ".sr{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "h3[tabindex='-1']:focus{outline:none}",
    "ul[role=listbox]{list-style:none;margin:4px 0;padding:0;border:1px solid #6b6b6b;border-radius:8px}",
    "li[role=option]{padding:10px 12px;cursor:pointer;border-top:1px solid #d0d0d0}",
    "li[role=option]:first-child{border-top:0}",
    "li[role=option] .s{display:block;font-size:.875rem;color:#4a4a4a}",
    "li[role=option][aria-selected=true]{background:#e8efff;outline:3px solid var(--focus);outline-offset:-3px}",
    "li[role=option]:hover{background:#f1f5ff}",
    ".primary{border:0;border-radius:8px;padding:10px 16px;min-height:44px;background:var(--brand);color:#fff;font-weight:600}",
    ".secondary{border:1px solid var(--brand);border-radius:8px;padding:10px 16px;min-height:44px;background:#fff;",
    "color:var(--brand);font-weight:600}",
    ".link{border:0;background:none;padding:8px 0;color:#1d4ed8;text-decoration:underline;min-height:44px}",
    ".person{background:#fff7e0;border:1px solid #8a6100;border-radius:8px;padding:10px 12px;margin:8px 0}",
    ".note{font-size:.875rem;color:#4a4a4a}",
    ".err{color:#b00020;font-size:.875rem;margin:4px 0 0}",
    "fieldset{border:1px solid #d0d0d0;border-radius:8px;margin:16px 0;padding:8px 12px}",
    "legend{font-weight:600;padding:0 4px}",
    "fieldset button{margin-right:8px}",
    ".ack{white-space:pre-line;background:#f3f6f3;border-left:4px solid #1e7a34;padding:10px 12px}",
    ".body p,.body li{margin:6px 0}",
    ".body ul,.body ol{padding-left:1.4em}",
    ":focus{outline:none}",
    ":focus-visible{outline:3px solid var(--focus);outline-offset:2px}",
    "input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid var(--focus);outline-offset:1px}",
    "@media (prefers-reduced-motion:no-preference){.panel{transition:opacity .15s}}"
  ].join("\n");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var name in attrs || {}) {
      if (name === "text") { node.textContent = attrs[name]; }
      else if (attrs[name] !== null && attrs[name] !== undefined) { node.setAttribute(name, attrs[name]); }
    }
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  var style = el("style");
  style.textContent = CSS;
  var wrap = el("div", { "class": "w" });
  wrap.style.setProperty("--brand", brand);
  wrap.style.setProperty("--focus", "#1a1a1a");
  var launcher = el("button", { type: "button", "class": "launcher", "aria-expanded": "false", "aria-controls": "sift-panel" });
  var panel = el("div", { id: "sift-panel", "class": "panel", role: "dialog", "aria-labelledby": "sift-title", hidden: "" });
  var title = el("h2", { id: "sift-title" });
  var closeBtn = el("button", { type: "button", "class": "close" });
  closeBtn.appendChild(el("span", { "aria-hidden": "true", text: "×" }));
  var langLabel = el("label", { "for": "sift-lang" });
  var langSelect = el("select", { id: "sift-lang" });
  Object.keys(STRINGS).forEach(function (code) {
    langSelect.appendChild(el("option", { value: code, lang: code, text: ENDONYMS[code] || code }));
  });

  /* search view */
  var searchView = el("div", { "class": "view" });
  var qLabel = el("label", { "for": "sift-q", id: "sift-q-label" });
  var hint = el("p", { id: "sift-hint", "class": "hint" });
  var input = el("input", {
    id: "sift-q", type: "text", role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false",
    "aria-controls": "sift-list", "aria-describedby": "sift-hint", autocomplete: "off", spellcheck: "false"
  });
  var list = el("ul", { id: "sift-list", role: "listbox", hidden: "" });
  var status = el("div", { id: "sift-status", "class": "status", role: "status", "aria-live": "polite", "aria-atomic": "true" });
  var person = el("p", { "class": "person", hidden: "", "data-sift": "person" });
  var contactBtn = el("button", { type: "button", "class": "secondary", "data-sift": "contact" });
  searchView.append(qLabel, hint, input, list, status, person, contactBtn);

  /* article view */
  var articleView = el("div", { "class": "view", hidden: "" });
  var backBtn = el("button", { type: "button", "class": "link", "data-sift": "back" });
  var articleTitle = el("h3", { tabindex: "-1", "data-sift": "article-title" });
  var articleNote = el("p", { "class": "note", hidden: "" });
  var articleBody = el("div", { "class": "body" });
  var helpedSet = el("fieldset", {});
  var helpedLegend = el("legend");
  var yesBtn = el("button", { type: "button", "class": "secondary", "data-sift": "yes" });
  var noBtn = el("button", { type: "button", "class": "secondary", "data-sift": "no" });
  helpedSet.append(helpedLegend, yesBtn, noBtn);
  var thanks = el("p", { role: "status", "class": "note", "data-sift": "thanks" });
  var contactBtn2 = el("button", { type: "button", "class": "secondary", "data-sift": "contact-article" });
  articleView.append(backBtn, articleTitle, articleNote, articleBody, helpedSet, thanks, contactBtn2);

  /* contact view */
  var contactView = el("div", { "class": "view", hidden: "" });
  var backBtn2 = el("button", { type: "button", "class": "link" });
  var contactTitle = el("h3", { tabindex: "-1" });
  var contactPerson = el("p", { "class": "person", hidden: "" });
  var contactIntro = el("p", { "class": "note" });
  var form = el("form", { novalidate: "" });
  var emailLabel = el("label", { "for": "sift-email" });
  var email = el("input", { id: "sift-email", name: "email", type: "email", autocomplete: "email", required: "", "aria-describedby": "sift-email-err" });
  var emailErr = el("p", { id: "sift-email-err", "class": "err" });
  var nameLabel = el("label", { "for": "sift-name" });
  var nameInput = el("input", { id: "sift-name", name: "name", type: "text", autocomplete: "name" });
  var msgLabel = el("label", { "for": "sift-msg" });
  var msg = el("textarea", { id: "sift-msg", name: "message", required: "", "aria-describedby": "sift-msg-err" });
  var msgErr = el("p", { id: "sift-msg-err", "class": "err" });
  var sendBtn = el("button", { type: "submit", "class": "primary", "data-sift": "send" });
  var formError = el("p", { "class": "err", role: "alert" });
  form.append(emailLabel, email, emailErr, nameLabel, nameInput, msgLabel, msg, msgErr, el("div", { "class": "row" }, [sendBtn]), formError);
  contactView.append(backBtn2, contactTitle, contactPerson, contactIntro, form);

  /* done view */
  var doneView = el("div", { "class": "view", hidden: "", "data-sift": "done" });
  var doneTitle = el("h3", { tabindex: "-1" });
  var ack = el("p", { "class": "ack", "data-sift": "ack" });
  var ref = el("p", { "class": "note" });
  doneView.append(doneTitle, ack, ref);

  var head = el("div", { "class": "head" }, [title, closeBtn]);
  var langRow = el("div", { "class": "row" }, [langLabel, langSelect]);
  var scroll = el("div", { "class": "scroll" }, [head, langRow, searchView, articleView, contactView, doneView]);
  panel.append(scroll);  // the panel keeps its rounded corners, its content scrolls inside
  wrap.append(launcher, panel);
  root.append(style, wrap);

  /* ---------------------------------------------------------------- strings */
  function localise() {
    panel.setAttribute("lang", lang);
    launcher.setAttribute("lang", lang);
    launcher.textContent = t("launcher");
    title.textContent = t("title");
    closeBtn.setAttribute("aria-label", t("close"));
    langLabel.textContent = t("language");
    langSelect.value = lang;
    qLabel.textContent = t("search_label");
    input.setAttribute("placeholder", t("search_placeholder"));
    hint.textContent = t("search_hint");
    list.setAttribute("aria-label", t("suggestions"));
    person.textContent = t("person");
    contactPerson.textContent = t("person");
    contactBtn.textContent = t("contact");
    contactBtn2.textContent = t("contact");
    backBtn.textContent = "← " + t("back");
    backBtn2.textContent = "← " + t("back");
    helpedLegend.textContent = t("helped");
    yesBtn.textContent = t("yes");
    noBtn.textContent = t("no");
    articleNote.textContent = t("machine");
    contactTitle.textContent = t("contact");
    contactIntro.textContent = t("contact_intro");
    emailLabel.textContent = t("email");
    nameLabel.textContent = t("name");
    msgLabel.textContent = t("message");
    sendBtn.textContent = t("send");
    doneTitle.textContent = t("sent");
  }

  /* ---------------------------------------------------------------- views */
  var views = [searchView, articleView, contactView, doneView];
  function show(view, focus) {
    views.forEach(function (v) { v.hidden = v !== view; });
    if (focus) { focus.focus(); }
  }
  function openPanel() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    show(searchView, input);
  }
  function closePanel() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }
  launcher.addEventListener("click", function () { if (panel.hidden) { openPanel(); } else { closePanel(); } });
  closeBtn.addEventListener("click", closePanel);
  var FULL_SCREEN = window.matchMedia("(max-width:520px),(max-height:520px)");
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      e.preventDefault();
      closePanel();
    } else if (e.key === "Tab" && FULL_SCREEN.matches) {
      // The panel covers the page on a phone or at high zoom: Tab must not wander off behind it.
      var focusable = Array.prototype.filter.call(
        panel.querySelectorAll("button,input,select,textarea,[tabindex='0']"),
        function (n) { return !n.disabled && n.getClientRects().length > 0; }
      );
      var first = focusable[0];
      var last = focusable[focusable.length - 1];
      if (e.shiftKey && root.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && root.activeElement === last) { e.preventDefault(); first.focus(); }
    }
  });
  langSelect.addEventListener("change", function () {
    lang = supported(langSelect.value) || "en";
    localise();
    lastQuery = null;
    if (input.value.trim()) { search(); }
  });

  /* ---------------------------------------------------------------- search-as-you-type */
  var results = [];
  var active = -1;
  var timer = null;
  var reportTimer = null;
  var lastQuery = null;
  var reported = null;
  var lastHandoff = false;
  var sequence = 0;

  function setExpanded(open) {
    list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) { setActive(-1); }
  }
  function setActive(i) {
    active = i;
    Array.prototype.forEach.call(list.children, function (li, j) { li.setAttribute("aria-selected", j === i ? "true" : "false"); });
    if (i >= 0 && list.children[i]) {
      input.setAttribute("aria-activedescendant", list.children[i].id);
      list.children[i].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }
  function render(suggestion) {
    list.textContent = "";
    results = relevant(suggestion.articles || []);
    lastHandoff = !!suggestion.handoff;
    person.hidden = !lastHandoff;
    status.classList.toggle("sr", lastHandoff);  // the person box says it; the live region only announces it
    if (lastHandoff) {
      results = [];
      setExpanded(false);
      status.textContent = t("person");
      return;
    }
    results.forEach(function (a, i) {
      var li = el("li", { id: "sift-opt-" + i, role: "option", "aria-selected": "false", "data-article": a.id, lang: a.language });
      li.appendChild(el("span", { text: a.title }));
      li.appendChild(el("span", { "class": "s", text: a.section && a.section !== a.title ? a.section : "" }));
      li.addEventListener("mousedown", function (e) { e.preventDefault(); });
      li.addEventListener("click", function () { openArticle(i); });
      list.appendChild(li);
    });
    setExpanded(results.length > 0);
    status.textContent = results.length ? t("found", { n: results.length }) : t("none_found");
  }
  function relevant(articles) {
    if (!articles.length) { return articles; }
    var floor = Math.max(MIN_CONFIDENCE, articles[0].answer_confidence / 10);
    var kept = articles.filter(function (a) { return a.answer_confidence >= floor; });
    return kept.length ? kept : articles.slice(0, FALLBACK_SHOWN);
  }
  function search() {
    var q = input.value.trim();
    if (!q) {
      results = [];
      list.textContent = "";
      setExpanded(false);
      person.hidden = true;
      status.classList.remove("sr");
      status.textContent = "";
      lastQuery = null;
      return;
    }
    if (q === lastQuery) { return; }
    lastQuery = q;
    var mine = ++sequence;
    status.textContent = t("searching");
    var path = "/v1/articles/suggest?limit=5&q=" + encodeURIComponent(q) + "&lang=" + lang + (kb ? "&kb=" + encodeURIComponent(kb) : "");
    getJSON(path).then(function (r) {
      if (mine !== sequence) { return; }
      if (r.status !== 200) { status.textContent = t("error"); return; }
      render(r.body);
      status.setAttribute("data-query", q);  // which question the list answers (tests wait on it)
      clearTimeout(reportTimer);
      reportTimer = setTimeout(reportSearch, REPORT_SEARCH_MS);
    }, function () { if (mine === sequence) { status.textContent = t("error"); } });
  }
  function reportSearch() {
    clearTimeout(reportTimer);
    if (lastQuery === null || lastQuery === reported) { return; }
    reported = lastQuery;
    record("search", { results: results.length, handoff: lastHandoff });
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", function (e) {
    var open = input.getAttribute("aria-expanded") === "true";
    if (e.key === "ArrowDown") {
      e.preventDefault();
      if (!results.length) { return; }
      if (!open) { setExpanded(true); }
      setActive(active < results.length - 1 ? active + 1 : 0);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      if (!results.length) { return; }
      if (!open) { setExpanded(true); }
      setActive(active > 0 ? active - 1 : results.length - 1);
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (open && active >= 0) { openArticle(active); }
      else { clearTimeout(timer); search(); }
    } else if (e.key === "Escape") {
      if (open) { e.preventDefault(); e.stopPropagation(); setExpanded(false); }
    }
  });

  /* ---------------------------------------------------------------- an article, inline */
  var current = null;
  function openArticle(i) {
    var hit = results[i];
    if (!hit) { return; }
    reportSearch();
    current = hit;
    articleTitle.textContent = hit.title;
    articleBody.textContent = "";
    articleNote.hidden = true;
    thanks.textContent = "";
    helpedSet.hidden = false;
    show(articleView, articleTitle);
    record("open", { article_id: hit.id });
    var suffix = kb ? "&kb=" + encodeURIComponent(kb) : "";
    getJSON("/v1/articles/" + encodeURIComponent(hit.id) + "?language=" + lang + suffix).then(function (r) {
      if (r.status === 409 && hit.language !== lang) {  // no translation to hand: the article as written
        return getJSON("/v1/articles/" + encodeURIComponent(hit.id) + "?language=" + hit.language + suffix);
      }
      return r;
    }).then(function (r) {
      if (current !== hit) { return; }
      if (r.status !== 200) { articleBody.textContent = t("error"); return; }
      articleTitle.textContent = r.body.title;
      articleTitle.setAttribute("lang", r.body.language);
      articleBody.setAttribute("lang", r.body.language);
      articleNote.hidden = ["original", "kb"].indexOf(r.body.translation) >= 0;
      renderMarkdown(articleBody, r.body.body);
    }, function () { articleBody.textContent = t("error"); });
  }
  function helped(yes) {
    if (!current) { return; }
    record(yes ? "helped" : "not_helped", { article_id: current.id });
    helpedSet.hidden = true;
    thanks.textContent = t("thanks");
    (yes ? backBtn : contactBtn2).focus();
  }
  yesBtn.addEventListener("click", function () { helped(true); });
  noBtn.addEventListener("click", function () { helped(false); });
  backBtn.addEventListener("click", function () { show(searchView, input); });

  /* A safe Markdown subset (headings, lists, paragraphs, bold, code) built as DOM nodes: nothing is parsed as HTML. */
  function inline(parent, text) {
    var parts = text.replace(/\[([^\]]+)\]\([^)]*\)/g, "$1").split(/(\*\*[^*]+\*\*|`[^`]+`)/);
    parts.forEach(function (p) {
      if (/^\*\*[^*]+\*\*$/.test(p)) { parent.appendChild(el("strong", { text: p.slice(2, -2) })); }
      else if (/^`[^`]+`$/.test(p)) { parent.appendChild(el("code", { text: p.slice(1, -1) })); }
      else if (p) { parent.appendChild(document.createTextNode(p)); }
    });
  }
  function renderMarkdown(target, markdown) {
    var listNode = null;
    var para = [];
    function flush() {
      if (para.length) { var p = el("p"); inline(p, para.join(" ")); target.appendChild(p); para = []; }
    }
    markdown.split(/\r?\n/).forEach(function (line) {
      var m;
      if (!line.trim()) { flush(); listNode = null; return; }
      if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
        flush(); listNode = null;
        var h = el("h4");
        inline(h, m[2]);
        target.appendChild(h);
      } else if ((m = /^\s*(?:[-*]|(\d+)[.)])\s+(.*)$/.exec(line))) {
        flush();
        var tag = m[1] ? "ol" : "ul";
        if (!listNode || listNode.tagName.toLowerCase() !== tag) { listNode = el(tag); target.appendChild(listNode); }
        var li = el("li");
        inline(li, m[2]);
        listNode.appendChild(li);
      } else {
        listNode = null;
        para.push(line.trim());
      }
    });
    flush();
  }

  /* ---------------------------------------------------------------- contact us */
  var from = searchView;
  function openContact(origin) {
    reportSearch();
    from = origin;
    contactPerson.hidden = !lastHandoff;
    if (!msg.value.trim()) { msg.value = input.value.trim(); }
    emailErr.textContent = "";
    msgErr.textContent = "";
    formError.textContent = "";
    show(contactView, contactTitle);
  }
  contactBtn.addEventListener("click", function () { openContact(searchView); });
  contactBtn2.addEventListener("click", function () { openContact(articleView); });
  backBtn2.addEventListener("click", function () { show(from, from === searchView ? input : articleTitle); });
  function invalid(field, error, text) {
    error.textContent = text;
    if (text) { field.setAttribute("aria-invalid", "true"); } else { field.removeAttribute("aria-invalid"); }
    return !!text;
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var badEmail = invalid(email, emailErr, /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.value.trim()) ? "" : t("bad_email"));
    var badMsg = invalid(msg, msgErr, msg.value.trim() ? "" : t("bad_message"));
    if (badEmail || badMsg) { (badEmail ? email : msg).focus(); return; }
    sendBtn.disabled = true;
    formError.textContent = "";
    var payload = { email: email.value.trim(), message: msg.value, language: lang, session: session };
    if (nameInput.value.trim()) { payload.name = nameInput.value.trim(); }
    if (kb) { payload.kb = kb; }
    postJSON("/v1/widget/tickets", payload).then(function (r) {
      sendBtn.disabled = false;
      if (r.status !== 201) {
        var field = r.body && r.body.error && r.body.error.field;
        if (field === "email") { invalid(email, emailErr, t("bad_email")); email.focus(); }
        else if (field === "message") { invalid(msg, msgErr, t("bad_message")); msg.focus(); }
        else { formError.textContent = t("error"); }
        return;
      }
      ack.textContent = r.body.acknowledgement || t("sent");
      ack.setAttribute("lang", r.body.language || lang);
      ref.textContent = t("reference") + ": " + r.body.id;
      msg.value = "";
      show(doneView, doneTitle);
    }, function () { sendBtn.disabled = false; formError.textContent = t("error"); });
  });

  localise();
  function mount() { document.body.appendChild(host); }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
  window.__siftWidget = { open: openPanel, close: closePanel, session: session };
})();
