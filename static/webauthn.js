// Passkeys and security keys on Tessera's hosted pages (W3C Web Authentication Level 2).
//
// A page that offers them has one section marked data-webauthn="login", "factor", "enrol"
// or "account", whose data-options names where to ask for a ceremony's options. This script
// asks for them (a POST with the page's CSRF token in the X-CSRF-Token header),
// runs the browser's ceremony, and posts the result as JSON in the section's form, which
// the server answers like the page's own form. Binary fields travel as base64url
// (RFC 4648 §5) both ways, as webauthn-rs writes and reads them.
//
// Without this script, or in a browser without WebAuthn, the section stays hidden and the
// password and code forms work as before.
//
// On the account page, an options request answered 403 means the session must sign in again
// first: the script then posts the section's form without a credential, and the server's
// answer to it (a login that returns to the page) is what the person sees.
"use strict";

(function () {
  const section = document.querySelector("section[data-webauthn]");
  if (!section || !window.PublicKeyCredential || !navigator.credentials) {
    return;
  }
  const mode = section.dataset.webauthn;
  const optionsUrl = section.dataset.options;
  const form = section.querySelector("form[data-webauthn-form]");
  const button = section.querySelector("[data-webauthn-start]");
  const status = section.querySelector("[data-webauthn-status]");
  if (!optionsUrl || !form || !button || !status) {
    return;
  }

  const FAILED = {
    login: "Your passkey could not be used. Try again, or sign in with your password.",
    factor: "Your passkey or security key could not be used. Try again, or enter a code.",
    enrol: "No passkey or security key was set up. Try again, or use an authenticator app.",
    account: "No passkey or security key was added. Try again.",
  };
  const REGISTERS = mode === "enrol" || mode === "account";

  function bytesOf(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function textOf(buffer) {
    let binary = "";
    for (const byte of new Uint8Array(buffer)) {
      binary += String.fromCharCode(byte);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // The options as navigator.credentials.create or .get take them: binary fields decoded.
  function creationOptions(publicKey) {
    publicKey.challenge = bytesOf(publicKey.challenge);
    publicKey.user.id = bytesOf(publicKey.user.id);
    for (const credential of publicKey.excludeCredentials || []) {
      credential.id = bytesOf(credential.id);
    }
    return publicKey;
  }

  function requestOptions(publicKey) {
    publicKey.challenge = bytesOf(publicKey.challenge);
    for (const credential of publicKey.allowCredentials || []) {
      credential.id = bytesOf(credential.id);
    }
    return publicKey;
  }

  // The credential as the server reads it: a registration or an assertion.
  function encoded(credential) {
    const answer = credential.response;
    const response = { clientDataJSON: textOf(answer.clientDataJSON) };
    if (answer.attestationObject) {
      response.attestationObject = textOf(answer.attestationObject);
    } else {
      response.authenticatorData = textOf(answer.authenticatorData);
      response.signature = textOf(answer.signature);
      response.userHandle = answer.userHandle ? textOf(answer.userHandle) : null;
    }
    return JSON.stringify({
      id: credential.id,
      rawId: textOf(credential.rawId),
      type: credential.type,
      response: response,
      extensions: credential.getClientExtensionResults(),
    });
  }

  async function fetchOptions(signal) {
    const answer = await fetch(optionsUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": form.elements.csrf.value },
      signal: signal,
    });
    if (!answer.ok) {
      const error = new Error("options refused: " + answer.status);
      error.status = answer.status;
      throw error;
    }
    return answer.json();
  }

  function send(credential) {
    form.elements.credential.value = encoded(credential);
    form.submit();
  }

  function failed(error) {
    // An abort is ours (the button replaced the autofill request); the person cancelling
    // the browser's dialog is NotAllowedError, and deserves the message too.
    if (error && error.name === "AbortError") {
      return;
    }
    status.textContent = FAILED[mode] || FAILED.login;
  }

  // The login page's autofill request (conditional mediation), while one waits.
  let autofill = null;

  async function offerInAutofill() {
    const available = PublicKeyCredential.isConditionalMediationAvailable;
    if (!available || !(await available.call(PublicKeyCredential))) {
      return;
    }
    const controller = new AbortController();
    autofill = controller;
    try {
      const options = await fetchOptions(controller.signal);
      const credential = await navigator.credentials.get({
        publicKey: requestOptions(options.publicKey),
        mediation: "conditional",
        signal: controller.signal,
      });
      if (credential) {
        send(credential);
      }
    } catch (error) {
      if (autofill === controller) {
        failed(error);
      }
    }
  }

  async function start() {
    if (autofill) {
      autofill.abort();
      autofill = null;
    }
    status.textContent = "";
    button.disabled = true;
    try {
      const options = await fetchOptions(undefined);
      const credential = REGISTERS
          ? await navigator.credentials.create({
              publicKey: creationOptions(options.publicKey),
            })
          : await navigator.credentials.get({ publicKey: requestOptions(options.publicKey) });
      send(credential);
    } catch (error) {
      if (mode === "account" && error.status === 403) {
        form.submit();
        return;
      }
      failed(error);
      button.disabled = false;
    }
  }

  // Enter in the enrolment's name field starts the ceremony instead of posting an empty form.
  form.addEventListener("submit", function (event) {
    if (!form.elements.credential.value) {
      event.preventDefault();
      start();
    }
  });
  button.addEventListener("click", start);
  section.hidden = false;
  if (mode === "login") {
    offerInAutofill();
  }
})();
