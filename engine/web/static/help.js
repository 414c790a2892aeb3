/* The help centre without a round trip per search: as the visitor types, the same server-rendered results
   (/help?partial=1) replace the list and the live region announces how many were found. Without this script
   the form still works; with it, Enter still submits the form. Nothing here is fetched from elsewhere. */
(function () {
  "use strict";
  var input = document.getElementById("q");
  var results = document.getElementById("results");
  var form = input && input.form;
  if (!input || !results || !form || !window.fetch) { return; }
  var DEBOUNCE_MS = 250;
  var SETTLED_MS = 1500;
  var typing = null;
  var settled = null;
  var shown = input.value.trim();
  var sequence = 0;

  function url(q, extra) {
    var params = new URLSearchParams(new FormData(form));
    params.set("q", q);
    return "/help?" + params.toString() + extra;
  }
  function load(final) {
    var q = input.value.trim();
    if (!final && q === shown) { return; }
    shown = q;
    var mine = ++sequence;
    if (!q) {
      Array.prototype.slice.call(results.children).forEach(function (n) { if (n.id !== "results-status") { results.removeChild(n); } });
      results.querySelector("#results-status").textContent = "";
      return;
    }
    fetch(url(q, "&partial=1" + (final ? "&final=1" : "")), { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.text() : Promise.reject(r.status);
    }).then(function (html) {
      if (mine !== sequence) { return; }
      var status = results.querySelector("#results-status");
      var holder = document.createElement("div");
      holder.innerHTML = html;  // our own server-rendered, autoescaped fragment
      var fresh = holder.querySelector("#results-status");
      // Keep the live region element itself so screen readers announce the change.
      Array.prototype.slice.call(results.children).forEach(function (n) { if (n !== status) { results.removeChild(n); } });
      status.className = fresh ? fresh.className : "status";
      status.textContent = fresh ? fresh.textContent : "";
      Array.prototype.slice.call(holder.children).forEach(function (n) { if (n.id !== "results-status") { results.appendChild(n); } });
      history.replaceState(null, "", url(q, ""));
      if (final) { results.setAttribute("data-settled", q); }  // the visitor stopped typing (tests wait on it)
    }).catch(function () { /* the form still submits */ });
  }
  input.addEventListener("input", function () {
    results.removeAttribute("data-settled");
    clearTimeout(typing);
    clearTimeout(settled);
    typing = setTimeout(function () { load(false); }, DEBOUNCE_MS);
    settled = setTimeout(function () { if (input.value.trim()) { load(true); } }, SETTLED_MS);
  });
  var message = document.getElementById("message");
  if (message) {
    input.addEventListener("change", function () { if (!message.value.trim()) { message.value = input.value.trim(); } });
  }
})();
