// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  // Language switches return to the page they were used on.
  document.querySelectorAll('.lang-switch input[name="next"]').forEach((i) => {
    if (!i.value) i.value = location.pathname + location.search;
  });
  // "Add contact" clones the last contact row with the next index.
  document.querySelectorAll("[data-add-contact]").forEach((btn) => {
    btn.addEventListener("click", () => {
      const rows = document.getElementById("contact-rows");
      const last = rows.lastElementChild;
      if (!last) return;
      const n = rows.children.length;
      const copy = last.cloneNode(true);
      copy.querySelectorAll("input").forEach((inp) => {
        inp.name = inp.name.replace(/contacts\[\d+\]/, "contacts[" + n + "]");
        inp.value = "";
        inp.classList.remove("invalid");
      });
      rows.appendChild(copy);
      copy.querySelector("input").focus();
    });
  });
  // Filters apply as soon as a select changes.
  document.querySelectorAll("form.filters select, form.filters input[type=checkbox]").forEach((el) => {
    el.addEventListener("change", () => el.form.submit());
  });
});

// The signature pad: draw with a finger or a mouse; on submit the drawing goes into a
// hidden field as a PNG data URL (left empty when nothing was drawn).
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("signature-pad");
  if (!canvas) return;
  const ctx = canvas.getContext("2d");
  const ratio = Math.max(window.devicePixelRatio || 1, 1);
  let drawn = false;
  const fit = () => {
    const w = canvas.clientWidth, h = canvas.clientHeight;
    canvas.width = w * ratio; canvas.height = h * ratio;
    ctx.scale(ratio, ratio);
    ctx.lineWidth = 2.4; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#111";
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
    drawn = false;
  };
  fit();
  let last = null;
  const point = (e) => { const r = canvas.getBoundingClientRect(); return { x: e.clientX - r.left, y: e.clientY - r.top }; };
  canvas.addEventListener("pointerdown", (e) => { canvas.setPointerCapture(e.pointerId); last = point(e); });
  canvas.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = point(e);
    ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke();
    last = p; drawn = true;
  });
  const end = () => { last = null; };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  document.getElementById("signature-clear")?.addEventListener("click", fit);
  canvas.closest("form").addEventListener("submit", () => {
    document.getElementById("signature-png").value = drawn ? canvas.toDataURL("image/png") : "";
  });
});

// Choosing a school on the new-ticket form lists its equipment.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("select[data-autosubmit]").forEach((sel) => {
    sel.addEventListener("change", () => {
      const b = sel.form.querySelector(`button[name="${sel.dataset.autosubmit}"]`);
      if (b) b.click();
    });
  });
});

// The agent's desk: the caller pops up as the number is typed (no reload), the pop fills
// the form's school and person, Ctrl+Enter saves, a phrase click inserts it into the reply.
document.addEventListener("DOMContentLoaded", () => {
  const phone = document.getElementById("desk-phone");
  const form = document.getElementById("desk-form");
  if (!phone || !form) return;
  let timer = null;
  let asked = "";
  const fill = (pop) => {
    const m = pop.querySelector("[data-customer]");
    const set = (id, v) => { const el = document.getElementById(id); if (el && v && !el.value) el.value = v; };
    if (m) {
      set("desk-customer", m.dataset.customer);
      const name = document.getElementById("desk-customer-name");
      if (name) name.textContent = m.textContent;
    }
    const person = pop.querySelector(".pop-person");
    if (person) {
      const [name, title] = person.textContent.split(" · ");
      set("desk-caller-name", (name || "").trim());
      set("desk-caller-title", (title || "").trim());
    }
    if (/\d{5}/.test(phone.value.replace(/\D/g, ""))) set("desk-caller-phone", phone.value.trim());
  };
  const lookup = async () => {
    const v = phone.value.trim();
    // A number once it is long enough, or a school's name.
    const digits = v.replace(/\D/g, "").length;
    if ((digits > 0 && digits < 7) || v.length < 2 || v === asked) return;
    asked = v;
    const r = await fetch(`${phone.dataset.pop}?phone=${encodeURIComponent(v)}`, { credentials: "same-origin" });
    if (!r.ok || v !== phone.value.trim()) return;
    const holder = document.getElementById("pop");
    holder.outerHTML = await r.text();
    fill(document.getElementById("pop"));
  };
  phone.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(lookup, 150); });
  phone.closest("form").addEventListener("submit", (e) => { e.preventDefault(); lookup(); document.getElementById("desk-content")?.focus(); });
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); form.requestSubmit(); }
  });
  document.querySelectorAll("[data-phrase]").forEach((b) => b.addEventListener("click", () => {
    const reply = document.getElementById("desk-reply");
    reply.value = (reply.value ? reply.value + "\n" : "") + b.dataset.phrase;
    reply.focus();
  }));
});
