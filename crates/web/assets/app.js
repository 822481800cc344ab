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
      set("desk-customer-text", m.textContent.trim());
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

// Page behaviours, here rather than inline: the Content-Security-Policy runs only this
// file's scripts, never a <script> or an on…= attribute in a page.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-print]").forEach((b) => b.addEventListener("click", () => window.print()));
  document.querySelectorAll("[data-autosubmit]").forEach((el) => el.addEventListener("change", () => el.form.submit()));
  document.querySelectorAll("[data-open]").forEach((a) => a.addEventListener("click", () => {
    const d = document.getElementById(a.dataset.open);
    if (d) d.open = true;
  }));
  // Bars drawn from data-width, as a style attribute in the page would be refused.
  document.querySelectorAll("[data-width]").forEach((el) => { el.style.width = el.dataset.width + "%"; });
  document.querySelectorAll("[data-left]").forEach((el) => { el.style.left = el.dataset.left + "%"; });
  // phrases.html
  document.querySelectorAll(".phrase-copy").forEach(function (b) {
    b.addEventListener("click", function () {
      var text = b.dataset.copy, label = b.textContent;
      var done = function () { b.textContent = "✓"; setTimeout(function () { b.textContent = label; }, 1200); };
      if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done); return; }
      var t = document.createElement("textarea"); t.value = text; document.body.appendChild(t); t.select();
      try { document.execCommand("copy"); done(); } finally { document.body.removeChild(t); }
    });
  });
  // roster.html
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) { if (!window.confirm(f.dataset.confirm)) { e.preventDefault(); } });
  });
  // On a phone the days stack up: start at today's.
  if (!location.hash && window.matchMedia("(max-width: 619px)").matches) {
    var today = document.querySelector(".wday.is-today");
    if (today) { today.scrollIntoView(); }
  }
  document.querySelectorAll("#shift-form .preset").forEach(function (b) {
    b.addEventListener("click", function () {
      var f = document.getElementById("shift-form");
      f.elements.start.value = b.dataset.start;
      f.elements.end.value = b.dataset.end;
    });
  });
  // sla.html
  document.querySelectorAll(".levels [data-minutes]").forEach(function (input) {
    var box = input.closest(".levels"), out = input.closest("label").querySelector(".as-hours");
    var num = function (v) { return (Math.round(v * 10) / 10).toString(); };
    input.addEventListener("input", function () {
      var m = parseInt(input.value, 10);
      if (!(m > 0)) { out.textContent = ""; return; }
      var s = box.dataset.h.replace("%{h}", num(m / 60));
      if (m >= 1440) { s += " · " + box.dataset.d.replace("%{d}", num(m / 1440)); }
      out.textContent = s;
    });
  });
  // Record pickers: type a name, code or phone; the suggestions come from the server, a
  // chosen one fills the hidden id. Without the script the server resolves the text.
  document.querySelectorAll("input[data-picker]").forEach(function (input) {
    var hidden = document.getElementById(input.dataset.pickerId);
    var list = document.getElementById(input.getAttribute("list"));
    var found = [], timer = null;
    var choose = function () {
      // Two schools of the same name are no pick: the server then asks for the code.
      var same = found.filter(function (h) { return h.name === input.value || h.code === input.value; });
      var hit = same.length === 1 ? same[0] : null;
      var before = hidden ? hidden.value : "";
      if (hidden) hidden.value = hit ? hit.id : "";
      // A form that lists what belongs to the record (the school's equipment) reloads on a pick.
      if (hit && hidden && before !== hidden.value && input.dataset.pickedSubmit) {
        var b = input.form.querySelector('button[name="' + input.dataset.pickedSubmit + '"]');
        if (b) b.click();
      }
    };
    input.addEventListener("input", function () {
      choose();
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) return;
      timer = setTimeout(function () {
        fetch("/pick/" + input.dataset.picker + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (hits) {
            found = hits;
            if (!list) return;
            list.textContent = "";
            hits.forEach(function (h) {
              var o = document.createElement("option");
              o.value = h.name;
              if (h.code) o.label = h.code;
              list.appendChild(o);
            });
            choose();
          })
          .catch(function () {});
      }, 200);
    });
    input.addEventListener("change", choose);
  });
});

// Forms with photos (the visit, the portal's report) are sent in the background, so that
// a refused submit keeps what was typed, drawn and attached: the page's answer only marks
// the fields at fault and shows its summary. Without script they post as usual.
// Marks a refused form from the server's answer (the same page with the errors).
window.aftercareShowErrors = (form, html) => {
  const doc = new DOMParser().parseFromString(html, "text/html");
  const fresh = doc.getElementById(form.id);
  if (!fresh) { document.open(); document.write(html); document.close(); return; }
  form.querySelectorAll(".flash-error, .field-error").forEach((n) => n.remove());
  form.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
  // The page's summary may sit above the form (the portal's): it is shown at the form's top.
  const summary = fresh.querySelector(".flash-error") || doc.querySelector(".flash-error");
  document.querySelectorAll(".flash-error").forEach((n) => n.remove());
  if (summary) form.prepend(summary);
  fresh.querySelectorAll(".field-error").forEach((err) => {
    const holder = err.closest("label, fieldset");
    const named = holder && holder.querySelector("[name]");
    const mine = named && form.querySelector('[name="' + CSS.escape(named.name) + '"]');
    const target = mine && mine.closest("label, fieldset");
    if (target) { target.classList.add("invalid"); target.appendChild(err); }
  });
  (summary || form).scrollIntoView({ block: "start" });
};
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-keep-files]").forEach((form) => {
    form.addEventListener("submit", async (e) => {
      if (e.defaultPrevented || !window.fetch || !window.DOMParser) return;
      // A photo over the portal's limit is shrunk first by the portal's own script.
      const limit = Number(form.dataset.maxBytes || 0);
      const files = Array.from(form.querySelectorAll("input[type=file]")).flatMap((i) => Array.from(i.files));
      if (limit && files.some((f) => f.size > limit)) return;
      e.preventDefault();
      const button = form.querySelector("[type=submit]");
      if (button) button.disabled = true;
      try {
        const res = await fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" });
        if (res.redirected || res.ok) { location.href = res.url; return; }
        window.aftercareShowErrors(form, await res.text());
      } catch (_) {
        form.submit();
      } finally {
        if (button) button.disabled = false;
      }
    });
  });
  // "One more" shows the next hidden line of a repeating block (a defective part).
  document.querySelectorAll("[data-more]").forEach((btn) => {
    btn.addEventListener("click", () => {
      const next = document.querySelector(btn.dataset.more + "[hidden]");
      if (next) { next.hidden = false; next.querySelector("select, input")?.focus(); }
      if (!document.querySelector(btn.dataset.more + "[hidden]")) btn.hidden = true;
    });
  });
});

// A filter box over a long list of choices (a school's equipment): typing hides what does
// not match; checked choices always stay in sight.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-filter]").forEach((box) => {
    box.addEventListener("input", () => {
      const q = box.value.trim().toLowerCase();
      document.querySelectorAll(box.dataset.filter).forEach((item) => {
        const on = item.querySelector("input:checked");
        item.hidden = q !== "" && !on && !item.textContent.toLowerCase().includes(q);
      });
    });
    // Enter in the filter must not submit the form.
    box.addEventListener("keydown", (e) => { if (e.key === "Enter") e.preventDefault(); });
  });
});

// The inspection round on a phone: each line is saved as soon as it is judged, so a
// dropped connection loses at most the line being typed. A measured value outside the
// standard's range proposes 异常 (fault). Without script each line has its own button.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-autosave]").forEach((form) => {
    const mark = form.querySelector(".saved-mark");
    const value = form.querySelector("input[name=value]");
    const save = async () => {
      if (!form.querySelector("input[name=result]:checked") || !window.fetch) return;
      if (mark) mark.textContent = "…";
      try {
        // URL-encoded, as the form itself would post it (the line's handler reads a form).
        const body = new URLSearchParams(new FormData(form));
        const res = await fetch(form.action, { method: "POST", body, credentials: "same-origin" });
        if (!res.ok) { form.submit(); return; }
        const line = form.closest(".inspection-line");
        line?.classList.add("judged");
        if (mark) mark.textContent = mark.dataset.saved || "✓";
        const done = document.querySelectorAll(".inspection-line.judged").length;
        const counter = document.getElementById("lines-done");
        if (counter) counter.textContent = String(done);
        const all = document.querySelectorAll(".inspection-line").length || 1;
        document.querySelector("#inspection-progress .meter-fill")?.setAttribute("width", String(Math.floor((done * 100) / all)));
      } catch (_) {
        if (mark) mark.textContent = "⚠";
      }
    };
    form.querySelectorAll("input[name=result], input[name=suggest_replace]").forEach((i) => i.addEventListener("change", save));
    form.querySelectorAll("input[name=note], input[name=value]").forEach((i) => i.addEventListener("change", save));
    value?.addEventListener("input", () => {
      const v = Number(value.value.replace(",", "."));
      if (value.value.trim() === "" || Number.isNaN(v)) return;
      const lo = value.dataset.min === undefined ? -Infinity : Number(value.dataset.min);
      const hi = value.dataset.max === undefined ? Infinity : Number(value.dataset.max);
      const pick = form.querySelector(`input[name=result][value=${v < lo || v > hi ? "fault" : "ok"}]`);
      if (pick && !form.querySelector("input[name=result][value=hazard]:checked")) pick.checked = true;
    });
    form.addEventListener("submit", (e) => {
      if (window.fetch && form.querySelector("input[name=result]:checked")) { e.preventDefault(); save(); }
    });
  });
});
