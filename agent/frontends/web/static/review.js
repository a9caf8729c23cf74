// icp serve: the joint review page. Each decision is sent to the review API as one change;
// the server stores it as a new profile version, or refuses it (409) when someone else saved
// a newer one first. Typed text in any field is kept across refreshes and refusals.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  let root = $("review");
  if (!root) return;
  const sid = root.dataset.sid;
  const formToken = document.querySelector('meta[name="icp-form"]').content;
  const nameBox = $("reviewer");
  const flash = $("flash");
  const errorBox = $("review-error");
  const errorText = $("review-error-text");
  let busy = false;

  try { nameBox.value = localStorage.getItem("icp-reviewer") || ""; } catch (_) { /* off */ }
  nameBox.addEventListener("input", () => {
    try { localStorage.setItem("icp-reviewer", nameBox.value.trim()); } catch (_) { /* off */ }
  });

  const say = (text) => { flash.textContent = text; };
  const fail = (text, stale) => {
    errorText.textContent = text;
    $("reload").hidden = !stale;
    errorBox.hidden = false;
    errorBox.scrollIntoView({ block: "nearest" });
  };
  const version = () => Number(root.dataset.version);

  // Text typed in any field survives a refresh of the page's content.
  const kept = () => {
    const out = {};
    for (const el of root.querySelectorAll("[data-keep]")) {
      const changed = el.tagName === "SELECT"
        ? el.selectedIndex !== [...el.options].findIndex((o) => o.defaultSelected)
        : el.value !== el.defaultValue;
      if (changed) out[el.dataset.keep] = el.value;
    }
    for (const form of root.querySelectorAll(".edit-form:not([hidden])")) {
      out[`open:${form.closest("[data-item]").dataset.item}`] = "1";
    }
    return out;
  };
  const restore = (values) => {
    for (const el of root.querySelectorAll("[data-keep]")) {
      if (el.dataset.keep in values) el.value = values[el.dataset.keep];
    }
    for (const li of root.querySelectorAll("[data-item]")) {
      if (values[`open:${li.dataset.item}`]) toggleEdit(li, true, false);
    }
  };

  // The latest version of the page, swapped in place (scroll position and typed text kept).
  const refresh = async () => {
    const values = kept();
    const response = await fetch(window.location.pathname, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`the page answered ${response.status}`);
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = doc.getElementById("review");
    root.replaceWith(fresh);
    root = fresh;
    restore(values);
  };

  const send = async (changes, done) => {
    if (busy) return;
    const by = nameBox.value.trim();
    if (!by) {
      fail("Type your name at the top first: every change records who made it.", false);
      nameBox.focus();
      return;
    }
    busy = true;
    errorBox.hidden = true;
    root.setAttribute("aria-busy", "true");
    let response;
    try {
      response = await fetch(`/api/s/${encodeURIComponent(sid)}/review`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-ICP-Form": formToken },
        credentials: "same-origin",
        body: JSON.stringify({ version: version(), by, changes }),
      });
    } catch (_) {
      busy = false;
      root.removeAttribute("aria-busy");
      fail("Could not reach icp serve: is it still running? Nothing was saved.", false);
      return;
    }
    let body = {};
    try { body = await response.json(); } catch (_) { /* not JSON */ }
    busy = false;
    root.removeAttribute("aria-busy");
    if (response.status === 409) {
      fail(`Not saved: someone else changed the review first (${body.error || "stale version"}). ` +
        "Reload to see their change; what you typed stays in its box.", true);
      return;
    }
    if (!response.ok) {
      fail(body.error || `The server said ${response.status}; nothing was saved.`, false);
      return;
    }
    if (done) done();
    await refresh();
    say(`Saved as version ${body.version}.`);
  };

  const toggleEdit = (li, open, focus = true) => {
    const form = li.querySelector(".edit-form");
    const button = li.querySelector('[data-action="open-edit"]');
    if (!form) return;
    form.hidden = !open;
    if (button) button.setAttribute("aria-expanded", String(open));
    if (open && focus) form.querySelector("textarea").focus();
  };

  document.addEventListener("click", (e) => {
    const button = e.target.closest("[data-action]");
    if (!button || !root.contains(button)) return;
    const li = button.closest("[data-item]");
    const item = li && li.dataset.item;
    const action = button.dataset.action;
    if (action === "open-edit") toggleEdit(li, true);
    else if (action === "close-edit") toggleEdit(li, false);
    else if (action === "move") {
      const section = li.querySelector("select").value;
      send([{ item, action: "move", section }]);
    } else send([{ item, action }]);
  });

  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (!root.contains(form)) return;
    e.preventDefault();
    if (form.classList.contains("edit-form")) {
      const item = form.closest("[data-item]").dataset.item;
      const text = form.querySelector("textarea").value;
      send([{ item, action: "edit", text }]);
    } else if (form.classList.contains("decide-form")) {
      const conflict = form.closest("[data-conflict]").dataset.conflict;
      const [decision, owner, due] = form.querySelectorAll("textarea, input");
      send([{ conflict, decision: decision.value, owner: owner.value, due: due.value }]);
    } else if (form.classList.contains("sign-form")) {
      const name = form.querySelector("input").value;
      send([{ signoff: form.dataset.team, name }]);
    } else if (form.classList.contains("owner-form")) {
      send([{ owner: form.querySelector("input").value }]);
    }
  });

  $("reload").addEventListener("click", async () => {
    errorBox.hidden = true;
    try {
      await refresh();
      say(`Showing version ${version()}. Your typed text is still in its box: send it again.`);
    } catch (_) {
      window.location.reload();
    }
  });

  // Another reviewer's change: say so, without replacing anything under the reader's cursor.
  setInterval(async () => {
    if (busy || document.hidden) return;
    try {
      const response = await fetch(`/api/s/${encodeURIComponent(sid)}/review`, {
        credentials: "same-origin",
      });
      if (!response.ok) return;
      const doc = await response.json();
      if (doc.version > version() && errorBox.hidden) {
        const who = doc.history.length ? doc.history[doc.history.length - 1].by : "someone";
        say(`${who} saved version ${doc.version}. Use "Reload the latest version" to see it.`);
        errorText.textContent = `Version ${doc.version} is newer than the one shown (${version()}).`;
        $("reload").hidden = false;
        errorBox.hidden = false;
      }
    } catch (_) { /* offline for a moment: try again later */ }
  }, 15000);
})();
