// openkms console: progressive enhancement only; every page works without it.
// - Encrypt sends the text (or the chosen file) as its exact UTF-8 bytes, base64, in
//   `plaintext_b64`, so line breaks are not turned into CRLF by the form submission.
// - Policy editors check that the document is JSON before it is sent.
// - Dangerous buttons ask for confirmation.
"use strict";

function toBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function exactText(form) {
  const area = form.querySelector("textarea[name=" + form.dataset.exactText + "]");
  const hidden = form.querySelector("input[name=plaintext_b64]");
  const file = form.querySelector("input[type=file]");
  form.addEventListener("submit", async (event) => {
    if (form.dataset.ready === "1") { return; }
    event.preventDefault();
    let bytes;
    if (file && file.files && file.files.length > 0) {
      bytes = new Uint8Array(await file.files[0].arrayBuffer());
    } else {
      bytes = new TextEncoder().encode(area.value);
    }
    hidden.value = toBase64(bytes);
    area.disabled = true;
    form.dataset.ready = "1";
    HTMLFormElement.prototype.submit.call(form);
  });
}

function jsonField(form) {
  const name = form.dataset.jsonField;
  const area = form.querySelector("textarea[name=" + name + "]");
  const out = document.getElementById(name + "-error");
  form.addEventListener("submit", (event) => {
    try {
      const v = JSON.parse(area.value);
      if (v === null || typeof v !== "object" || Array.isArray(v)) { throw new Error("a policy is a JSON object"); }
      if (out) { out.textContent = ""; }
    } catch (e) {
      event.preventDefault();
      if (out) { out.textContent = "Not a valid policy document: " + e.message; }
      area.focus();
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-exact-text]").forEach(exactText);
  document.querySelectorAll("form[data-json-field]").forEach(jsonField);
  document.querySelectorAll("button[data-confirm]").forEach((b) => {
    b.addEventListener("click", (event) => {
      if (!window.confirm(b.dataset.confirm)) { event.preventDefault(); }
    });
  });
});
