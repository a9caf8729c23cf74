// icp serve: the chat page. Sends answers, shows the next question as it streams in.
"use strict";

(() => {
  const root = document.getElementById("chat");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const sid = root.dataset.sid;
  const max = Number(root.dataset.max);
  let seq = root.dataset.seq ? Number(root.dataset.seq) : null;

  const progress = $("progress");
  if (progress && window.matchMedia("(max-width: 860px)").matches) progress.open = false;

  const form = $("composer");
  if (!form) return; // the interview is over: a static summary page
  const box = $("answer");
  const send = $("send");
  const skip = $("skip");
  const wrap = $("wrap");
  const errorBox = $("error");
  const counter = $("counter");
  const current = $("current");
  const qTopic = $("q-topic");
  const qPreface = $("q-preface");
  const qText = $("q-text");
  const transcript = $("transcript");
  const labels = { covered: "Covered", vague: "Vague", declined: "Declined", pending: "Not yet" };
  const coarse = window.matchMedia("(pointer: coarse)").matches;
  let busy = false;

  // A draft survives a closed tab: kept per question in this browser only.
  const draftKey = () => `icp-draft-${sid}-${seq}`;
  const saveDraft = () => {
    try {
      if (box.value) localStorage.setItem(draftKey(), box.value);
      else localStorage.removeItem(draftKey());
    } catch (_) { /* storage may be off; the draft is only a convenience */ }
  };
  const loadDraft = () => {
    try { box.value = localStorage.getItem(draftKey()) || ""; } catch (_) { box.value = ""; }
  };

  const grow = () => {
    box.style.height = "auto";
    box.style.height = `${Math.min(box.scrollHeight + 2, window.innerHeight * 0.5)}px`;
  };
  const count = () => {
    const n = box.value.length;
    counter.hidden = n < max * 0.8;
    counter.textContent = `${n.toLocaleString()} / ${max.toLocaleString()} characters`;
    counter.classList.toggle("over", n > max);
  };
  const showError = (message) => { errorBox.textContent = message; errorBox.hidden = false; };
  const hideError = () => { errorBox.hidden = true; errorBox.textContent = ""; };
  const setBusy = (on) => {
    busy = on;
    for (const el of [send, skip, wrap, box]) if (el) el.disabled = on;
    form.setAttribute("aria-busy", on ? "true" : "false");
  };
  const toBottom = () => window.scrollTo({ top: document.body.scrollHeight });

  const bubble = (cls, text, topic) => {
    const li = document.createElement("li");
    li.className = `msg ${cls}`;
    if (topic) {
      const t = document.createElement("span");
      t.className = "msg-topic";
      t.textContent = topic;
      li.append(t);
    }
    if (cls === "you") {
      const who = document.createElement("span");
      who.className = "visually-hidden";
      who.textContent = "You:";
      li.append(who);
    }
    const p = document.createElement("p");
    p.textContent = text;
    if (cls === "you") p.dir = "auto";
    li.append(p);
    transcript.append(li);
  };
  const EVENTS = { skip: "Skipped this topic", "wrap-up": "Asked to wrap up" };

  // The answered question and the answer move up into the transcript.
  const archive = (action, answer) => {
    if (!qPreface.hidden && qPreface.textContent) bubble("agent note", qPreface.textContent);
    bubble("agent", qText.textContent, qTopic.textContent);
    if (action === "answer") bubble("you", answer);
    else bubble("event", EVENTS[action]);
    qPreface.hidden = true;
    qPreface.textContent = "";
    qTopic.textContent = "";
    qText.textContent = "Thinking";
    current.classList.add("thinking");
  };

  const updatePanel = (status) => {
    for (const li of document.querySelectorAll("#sections .sec")) {
      const s = status.sections[li.dataset.key];
      if (!s) continue;
      li.className = `sec ${s.status}${li.dataset.key === status.current ? " now" : ""}`;
      li.querySelector(".sec-status").textContent = labels[s.status] || s.status;
    }
    const left = String(Math.round(status.minutes_left));
    $("minutes-left").textContent = left;
    $("minutes-big").textContent = left;
    $("covered").textContent = String(status.covered);
    $("time-used").value = status.minutes_total - status.minutes_left;
  };

  const showQuestion = (q, status) => {
    seq = q.seq;
    root.dataset.seq = String(seq);
    current.classList.remove("thinking", "streaming");
    current.dataset.topic = q.topic || "";
    qTopic.textContent = q.topic_title;
    qPreface.textContent = q.preface || "";
    qPreface.hidden = !q.preface;
    qText.textContent = q.text; // the final wording replaces whatever streamed
    updatePanel(status);
    loadDraft();
    grow();
    count();
  };

  let streamed = false;
  const handle = (event) => {
    if (event.type === "token") {
      if (!streamed) {
        streamed = true;
        qText.textContent = "";
        current.classList.replace("thinking", "streaming");
      }
      qText.textContent += event.text;
      return false;
    }
    if (event.type === "question") {
      showQuestion(event.question, event.status);
      return true;
    }
    if (event.type === "done") {
      window.history.scrollRestoration = "manual"; // the finished page opens at its top
      window.location.reload(); // the finished page: summary and downloads
      return true;
    }
    if (event.type === "error") {
      showError(`Your answer is saved, but the next question failed: ${event.error} ` +
        "Reload the page to try again.");
      return true;
    }
    return false;
  };

  const readStream = async (response) => {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let finished = false;
    streamed = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, cut).trim();
        buffer = buffer.slice(cut + 1);
        if (line) finished = handle(JSON.parse(line)) || finished;
      }
    }
    return finished;
  };

  const step = async (action, payload) => {
    if (busy) return;
    hideError();
    setBusy(true);
    const answer = payload.answer;
    let response;
    try {
      response = await fetch(`/api/s/${encodeURIComponent(sid)}/${action}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({ ...payload, seq }),
      });
    } catch (_) {
      setBusy(false);
      showError("Could not reach icp serve: is it still running? Your answer is still in the box.");
      return;
    }
    if (!response.ok) {
      let message = response.status === 413
        ? `That answer is too long to send; the limit is ${max.toLocaleString()} characters.`
        : `The server said ${response.status}.`;
      try { message = (await response.json()).error || message; } catch (_) { /* not JSON */ }
      setBusy(false);
      showError(message);
      box.focus();
      return;
    }
    try { localStorage.removeItem(draftKey()); } catch (_) { /* ignore */ }
    box.value = "";
    grow();
    count();
    archive(action, answer);
    toBottom();
    let finished = false;
    try {
      finished = await readStream(response);
    } catch (_) {
      finished = false;
    }
    if (!finished) showError("The connection dropped; your answer is saved. Reload the page to continue.");
    setBusy(false);
    box.focus();
    toBottom();
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (box.value.length > max) {
      showError(`That answer is ${box.value.length.toLocaleString()} characters; the limit is ` +
        `${max.toLocaleString()}. Shorten it, or send it in two parts.`);
      return;
    }
    if (!box.value.trim()) {
      showError("Type an answer first, or use Skip topic to move on.");
      box.focus();
      return;
    }
    step("answer", { answer: box.value });
  });
  box.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || e.isComposing) return;
    if (e.ctrlKey || e.metaKey || (!e.shiftKey && !coarse)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  box.addEventListener("input", () => { grow(); count(); saveDraft(); });
  skip.addEventListener("click", () => step("skip", {}));
  wrap.addEventListener("click", () => step("wrap-up", {}));

  loadDraft();
  grow();
  count();
  toBottom();
  box.focus();
})();
