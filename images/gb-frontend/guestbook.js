// The guestbook page: the messages are one comma-joined string under the key "guestbook",
// read through a redis follower (cmd=get) and written to the leader (cmd=set), as the
// Kubernetes sample's page does it (which used AngularJS from a CDN; this is plain JS).
"use strict";

const KEY = "guestbook";
let messages = [];

function show() {
  const list = document.getElementById("messages");
  list.replaceChildren(...messages.map((text) => {
    const row = document.createElement("div");
    row.textContent = text;
    return row;
  }));
}

async function load() {
  const reply = await fetch(`guestbook.php?cmd=get&key=${KEY}`);
  const body = await reply.json();
  messages = body.error ? [body.error] : (body.data ? body.data.split(",") : []);
  show();
}

async function submit(event) {
  event.preventDefault();
  const input = document.getElementById("message");
  if (!input.value) return;
  messages.push(input.value);
  input.value = "";
  show();
  const form = new URLSearchParams({ cmd: "set", key: KEY, value: messages.join() });
  await fetch("guestbook.php", { method: "POST", body: form });
}

document.getElementById("guestbook").addEventListener("submit", submit);
load();
