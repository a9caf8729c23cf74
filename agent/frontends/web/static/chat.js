// icp serve: the chat page. Sends answers, shows the next question as it streams in.
"use strict";

(() => {
  // The front page: one click on Start starts one interview (the server also knows the form).
  const newForm = document.getElementById("new-form");
  if (newForm) {
    newForm.addEventListener("submit", () => {
      setTimeout(() => { document.getElementById("start").disabled = true; }, 0);
    });
  }
  const root = document.getElementById("chat");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const formToken = document.querySelector('meta[name="icp-form"]').content;
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
  const note = $("note");
  const coarse = window.matchMedia("(pointer: coarse)").matches;
  let busy = false;

  // A draft is never lost: kept on the server per interview (another browser, or the page on a
  // new port after a restart, still has it) and in this browser as a fallback.
  const draftKey = `icp-draft-${sid}`;
  let draftTimer = null;
  let draftChain = Promise.resolve();
  const keepLocal = () => {
    try {
      if (box.value) localStorage.setItem(draftKey, box.value);
      else localStorage.removeItem(draftKey);
    } catch (_) { /* storage may be off */ }
  };
  const putDraft = () => {
    draftTimer = null;
    const body = JSON.stringify({ seq, text: box.value });
    draftChain = draftChain.then(() => fetch(`/api/s/${encodeURIComponent(sid)}/draft`, {
      method: "PUT",
      headers: { "Content-Type": "application/json", "X-ICP-Form": formToken },
      credentials: "same-origin",
      body,
    }).then(async (r) => {
      if (r.status === 403) showError((await r.json()).error);
    }).catch(() => { /* offline for a moment: the local copy stays */ }));
    return draftChain;
  };
  const saveDraft = () => {
    keepLocal();
    if (draftTimer) clearTimeout(draftTimer);
    draftTimer = setTimeout(putDraft, 700);
  };
  const flushDraft = () => (draftTimer ? (clearTimeout(draftTimer), putDraft()) : draftChain);
  const loadDraft = () => {
    if (box.value) return; // the server's draft, rendered into the box
    try { box.value = localStorage.getItem(draftKey) || ""; } catch (_) { /* off */ }
  };

  const grow = () => {
    box.style.height = "auto";
    box.style.height = `${Math.min(box.scrollHeight + 2, window.innerHeight * 0.5)}px`;
  };
  const length = (text) => [...text].length; // code points, as the server counts: an emoji is one
  const count = () => {
    const n = length(box.value);
    counter.hidden = n < max * 0.8;
    counter.textContent = `${n.toLocaleString()} / ${max.toLocaleString()} characters`;
    counter.classList.toggle("over", n > max);
  };
  const showError = (message) => { errorBox.textContent = message; errorBox.hidden = false; };
  const hideError = () => { errorBox.hidden = true; errorBox.textContent = ""; };
  const setBusy = (on) => {
    busy = on;
    for (const el of [send, skip, wrap, $("undo")]) if (el) el.disabled = on;
    box.readOnly = on; // readable and focusable while the next question comes
    form.setAttribute("aria-busy", on ? "true" : "false");
    current.setAttribute("aria-busy", on ? "true" : "false");
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
  const undoRow = $("undo-row");

  // The answered question and the answer move up into the transcript.
  const archive = (action, answer) => {
    if (!qPreface.hidden && qPreface.textContent) bubble("agent note", qPreface.textContent);
    bubble("agent", qText.textContent, qTopic.textContent);
    if (action === "answer") bubble("you", answer);
    else bubble("event", EVENTS[action]);
    qPreface.hidden = true;
    qPreface.textContent = "";
    if (undoRow) undoRow.hidden = true;
    qText.textContent = "Thinking";
    current.classList.add("thinking");
  };

  // Minutes left tick down between answers: the clock (until the idle cap) and the current
  // question's share of the respondent's pace; the rest waits for the next answer.
  let timer = null;
  let timerSince = Date.now();
  const readTimer = () => {
    const d = progress.dataset;
    if (d.clock === undefined) return null;
    return { clock: +d.clock, idle: +d.idle, current: +d.current, after: +d.after };
  };
  const showMinutes = () => {
    if (!timer) return;
    const t = (Date.now() - timerSince) / 1000;
    const clock = timer.clock - Math.min(t, Math.max(timer.idle, 0));
    const paced = timer.after + Math.max(timer.current - t, 0);
    const left = Math.max(0, Math.min(clock, paced)) / 60;
    const shown = String(left < 1 && left > 0 ? "<1" : Math.round(left));
    $("minutes-left").textContent = shown;
    $("minutes-big").textContent = shown;
    const total = Number($("time-used").max);
    $("time-used").value = Math.max(0, total - left);
  };
  timer = readTimer();
  setInterval(showMinutes, 5000);

  const updatePanel = (status) => {
    for (const li of document.querySelectorAll("#sections .sec")) {
      const s = status.sections[li.dataset.key];
      if (!s) continue;
      li.className = `sec ${s.state}`;
      li.querySelector(".sec-status").textContent = s.label;
    }
    $("covered").textContent = String(status.covered);
    if (status.timer) {
      timer = status.timer;
      timerSince = Date.now();
      showMinutes();
    }
    const pace = $("pace");
    if (pace && status.questions_left !== undefined) {
      const q = status.questions_left;
      const a = status.answers;
      pace.textContent = `At your pace, about ${q} more question${q === 1 ? "" : "s"} · ` +
        `${a} answer${a === 1 ? "" : "s"} so far`;
    }
  };

  let canUndo = false;
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
    if (undoRow) undoRow.hidden = !canUndo;
    loadDraft();
    if (box.value) saveDraft(); // text kept through Skip or Wrap up: now for this question
    grow();
    count();
  };

  let streamed = false;
  const handle = (event) => {
    if (event.type === "topic") { // the next question's topic, before it is worded
      qTopic.textContent = event.topic_title;
      current.dataset.topic = event.topic || "";
      updatePanel(event.status);
      return false;
    }
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
      canUndo = Boolean(event.can_undo);
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

  const post = (path, payload) => fetch(`/api/s/${encodeURIComponent(sid)}/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-ICP-Form": formToken },
    credentials: "same-origin",
    body: JSON.stringify({ ...payload, seq }),
  });

  const step = async (action, payload) => {
    if (busy) return;
    hideError();
    note.textContent = "";
    setBusy(true);
    const answer = payload.answer;
    let response;
    try {
      await flushDraft();
      response = await post(action, payload);
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
    if (action === "answer") {
      box.value = "";
      keepLocal();
    } else if (box.value.trim()) {
      note.textContent = "Your unsent text is still in the box.";
    }
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
    if (length(box.value) > max) {
      showError(`That answer is ${length(box.value).toLocaleString()} characters; the limit is ` +
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
  const confirmBox = $("wrap-confirm");
  const askWrap = (open) => {
    confirmBox.hidden = !open;
    wrap.setAttribute("aria-expanded", String(open));
    (open ? $("wrap-yes") : wrap).focus();
  };
  wrap.addEventListener("click", () => askWrap(confirmBox.hidden));
  $("wrap-no").addEventListener("click", () => askWrap(false));
  $("wrap-yes").addEventListener("click", () => {
    confirmBox.hidden = true;
    wrap.setAttribute("aria-expanded", "false");
    step("wrap-up", {});
  });
  const undo = $("undo");
  if (undo) {
    undo.addEventListener("click", async () => {
      if (busy) return;
      hideError();
      setBusy(true);
      try {
        await flushDraft();
        const response = await post("undo-wrap-up", {});
        if (!response.ok) {
          let message = `The server said ${response.status}.`;
          try { message = (await response.json()).error || message; } catch (_) { /* */ }
          showError(message);
          setBusy(false);
          return;
        }
        window.location.reload(); // the transcript shows the wrap-up and its undo
      } catch (_) {
        showError("Could not reach icp serve: is it still running?");
        setBusy(false);
      }
    });
  }

  loadDraft();
  grow();
  count();
  toBottom();
  box.focus();
  showMinutes();
})();
