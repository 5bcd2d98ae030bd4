// The visitor page: send a wish, then follow its place in the queue until its contact sheet shows.
"use strict";

const form = document.getElementById("wish");
const said = document.getElementById("said");
const sheet = document.getElementById("sheet");
const send = document.getElementById("send");

function say(text, error = false) {
  said.textContent = text;
  said.className = error ? "error" : "";
}

function describe(wish) {
  if (wish.state === "queued" || wish.state === "approval") {
    const waiting = wish.state === "approval" ? ", waiting for the operator" : "";
    return `Your wish is number ${wish.place} in the queue${waiting}.`;
  }
  if (wish.state === "making") return "Your wish is being made now…";
  if (wish.state === "ready") return "Your wish is made: watch the wall. Here is what became of it:";
  return wish.message || `Your wish was ${wish.words}.`;
}

async function follow(token) {
  const answer = await fetch(`/visit/wish/${encodeURIComponent(token)}`);
  const wish = await answer.json();
  if (!answer.ok) return say(wish.error || "The wish was lost; send it again.", true);
  say(describe(wish), wish.state === "failed" || wish.state === "refused");
  if (wish.contact_sheet) {
    sheet.src = wish.contact_sheet;
    sheet.hidden = false;
    send.disabled = false;
    return;
  }
  if (wish.state === "failed" || wish.state === "refused") {
    send.disabled = false;
    return;
  }
  setTimeout(() => follow(token), 2000);
}

let limits = { max_photo_mb: 12 };

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const photo = document.getElementById("photo").files[0];
  if (photo && photo.size > limits.max_photo_mb * 1024 * 1024) {
    say(`The photo is ${Math.round(photo.size / 1048576)} MB; send one under ${limits.max_photo_mb} MB.`, true);
    return;
  }
  send.disabled = true;
  sheet.hidden = true;
  say("Sending…");
  try {
    const answer = await fetch("/visit/wish", { method: "POST", body: new FormData(form) });
    const told = await answer.json();
    if (!answer.ok) {
      say(told.error, true);
      send.disabled = false;
      return;
    }
    say(describe(told));
    follow(told.token);
  } catch (error) {
    say("The wish could not be sent; check the network and try again.", true);
    send.disabled = false;
  }
});

fetch("/visit/config.json")
  .then((answer) => answer.json())
  .then((config) => {
    limits = config;
    document.getElementById("photo-field").hidden = !config.photos;
    document.getElementById("prompt").maxLength = config.max_prompt;
  });
