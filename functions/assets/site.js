// The site's one script: subscribe in place (address, frequency, ticked funds). Without it the form posts
// and the server answers a page.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("subscribe-form");
  const result = document.getElementById("subscribe-result");
  if (!form || !result || !window.fetch) return;
  // Ticking a fund means mail on its signals: choose that frequency for the visitor.
  form.addEventListener("change", (event) => {
    const signals = form.querySelector("input[name=frequency][value=signals]");
    if (event.target.name === "funds" && event.target.checked && signals) signals.checked = true;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    result.className = "";
    result.textContent = "正在提交…";
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({ email: data.get("email"), frequency: data.get("frequency"), funds: data.getAll("funds") }),
      });
      const body = await response.json();
      result.className = response.ok ? "ok" : "error";
      result.textContent = response.ok ? body.message : body.error;
    } catch (err) {
      result.className = "error";
      result.textContent = "提交失败, 请稍后再试。";
    }
  });
});
