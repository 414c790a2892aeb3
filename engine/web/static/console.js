// The agent console's one script: feedback saved without leaving the page, and a macro put into the draft.
// Every form works without it (a plain POST that redirects back); nothing is fetched from another site.
"use strict";

(function () {
  const status = document.getElementById("feedback-status");

  let clearing = null;

  function say(message, failed) {
    if (!status) return;
    status.textContent = message;
    status.classList.toggle("failed", Boolean(failed));
    // The message floats over the page: it goes after a while (the history list keeps what was saved).
    clearTimeout(clearing);
    clearing = setTimeout(() => { status.textContent = ""; }, 10000);
  }

  function remember(message) {
    const list = document.getElementById("feedback-history");
    if (!list) return;
    const none = list.querySelector(".none");
    if (none) none.remove();
    const item = document.createElement("li");
    item.textContent = message;
    list.prepend(item);
  }

  async function submit(event) {
    const form = event.target;
    if (!form.matches("form[data-feedback]")) return;
    event.preventDefault();
    const submitter = event.submitter;
    const body = new URLSearchParams(new FormData(form, submitter));
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": body.get("csrf") || "" },
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) {
        const why = (answer.error && answer.error.message) || `the server answered ${response.status}`;
        say(`Not saved: ${why}`, true);
        return;
      }
      say(answer.message || "Saved.");
      remember(`just now · ${answer.agent_id || "you"}: ${answer.message || "saved"}`);
      if (submitter && submitter.hasAttribute("aria-pressed")) {
        form.querySelectorAll("button[aria-pressed]").forEach((b) => b.setAttribute("aria-pressed", String(b === submitter)));
      }
    } catch (error) {
      say("Not saved: the console could not reach the server.", true);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
      if (submitter) submitter.focus();
    }
  }

  document.addEventListener("submit", submit);

  document.querySelectorAll("button[data-use-macro]").forEach((button) => {
    const source = document.getElementById(button.dataset.useMacro);
    const draft = document.getElementById("draft");
    if (!source || !draft) return;
    button.hidden = false;
    button.addEventListener("click", () => {
      draft.value = source.textContent;
      draft.focus();
      say("The macro's text is now the reply: edit it, then send.");
    });
  });
})();
