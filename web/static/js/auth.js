// Sign-in: a session token from POST /auth/login, kept in sessionStorage (gone with the tab).

import { ApiError, apiFetch, getJson, sendJson, setToken, token } from "./api.js";
import { lang, t } from "./i18n.js";
import { state } from "./state.js";

let changed = () => {};

export function onSessionChange(fn) {
  changed = fn;
}

export async function loadMe() {
  try {
    state.me = await getJson(`/auth/me?lang=${lang()}`);
  } catch {
    state.me = { kind: "anonymous", roles: [], layers: [], editable: [], agencies: {} };
  }
  renderUser();
}

export function renderUser() {
  const signedIn = state.me && state.me.kind === "user";
  document.getElementById("login-button").hidden = signedIn;
  document.getElementById("user").hidden = !signedIn;
  document.getElementById("user-name").textContent = signedIn ? state.me.display_name || state.me.username : "";
}

export function initAuth() {
  const dialog = document.getElementById("login-dialog");
  const error = document.getElementById("login-error");
  document.getElementById("login-button").addEventListener("click", () => {
    error.hidden = true;
    dialog.showModal();
    document.getElementById("login-username").focus();
  });
  document.getElementById("login-cancel").addEventListener("click", () => dialog.close());
  document.getElementById("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = document.getElementById("login-username").value.trim();
    const password = document.getElementById("login-password").value;
    try {
      const response = await sendJson("POST", "/auth/login", { username, password });
      const body = await response.json();
      setToken(body.token);
      document.getElementById("login-password").value = "";
      dialog.close();
      await changed();
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401 ? t("auth.failed") : err.message;
      error.hidden = false;
    }
  });
  document.getElementById("logout-button").addEventListener("click", async () => {
    if (token()) await apiFetch("/auth/logout", { method: "POST" }).catch(() => {});
    setToken(null);
    await changed();
  });
}
