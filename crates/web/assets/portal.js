// The school portal's report form, progressively enhanced: the equipment list can be
// filtered by typing, choosing a piece of equipment fills its system, chosen photos are
// previewed, and a photo over the size limit is made smaller in the browser before it is
// sent (phones take large pictures). Without JavaScript the form posts as it is.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("report-form");
  if (!form) return;
  const pick = document.getElementById("equipment-pick");
  const system = document.getElementById("system-pick");
  const filter = document.getElementById("equipment-filter");
  if (pick && filter) {
    filter.addEventListener("input", () => {
      const q = filter.value.trim().toLowerCase();
      let first = null;
      pick.querySelectorAll("option[value]:not([value=''])").forEach((o) => {
        const hit = !q || o.textContent.toLowerCase().includes(q);
        o.hidden = !hit;
        o.disabled = !hit;
        if (hit && !first) first = o;
      });
      pick.querySelectorAll("optgroup").forEach((g) => {
        g.hidden = !g.querySelector("option:not([hidden])");
      });
      // Typing picks the first match unless a visible one is already chosen.
      const cur = pick.selectedOptions[0];
      if (q && first && (!cur || !cur.value || cur.hidden)) {
        pick.value = first.value;
        pick.dispatchEvent(new Event("change"));
      }
    });
  }
  if (pick && system) {
    pick.addEventListener("change", () => {
      const s = pick.selectedOptions[0]?.dataset.system;
      if (s) system.value = s;
    });
  }
  const input = document.getElementById("photos");
  const previews = document.getElementById("photo-previews");
  if (input && previews) {
    input.addEventListener("change", () => {
      previews.textContent = "";
      for (const f of input.files) {
        if (!f.type.startsWith("image/")) continue;
        const img = document.createElement("img");
        img.src = URL.createObjectURL(f);
        img.alt = f.name;
        const s = document.createElement("span");
        s.appendChild(img);
        previews.appendChild(s);
      }
    });
  }
  const limit = Number(form.dataset.maxBytes || 0);
  // Redraws an image at most 1600 px on its long side as a JPEG.
  const shrink = (file) => new Promise((resolve) => {
    const img = new Image();
    img.onload = () => {
      const scale = Math.min(1, 1600 / Math.max(img.naturalWidth, img.naturalHeight));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(img.naturalWidth * scale);
      canvas.height = Math.round(img.naturalHeight * scale);
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      canvas.toBlob((b) => resolve(b || file), "image/jpeg", 0.85);
    };
    img.onerror = () => resolve(file);
    img.src = URL.createObjectURL(file);
  });
  form.addEventListener("submit", async (e) => {
    if (!input || !limit || !window.fetch || !window.FormData) return;
    const files = Array.from(input.files);
    if (!files.some((f) => f.size > limit)) return;
    e.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    const data = new FormData(form);
    data.delete("photos");
    for (const f of files) {
      if (f.size > limit) {
        const small = await shrink(f);
        data.append("photos", small, f.name.replace(/\.[^.]*$/, "") + ".jpg");
      } else {
        data.append("photos", f, f.name);
      }
    }
    const r = await fetch(form.action, { method: "POST", body: data, credentials: "same-origin" });
    if (button) button.disabled = false;
    if (r.redirected) {
      location.href = r.url;
    } else if (window.aftercareShowErrors) {
      // The photos stay attached: only the fields at fault are marked.
      window.aftercareShowErrors(form, await r.text());
    } else {
      document.open();
      document.write(await r.text());
      document.close();
    }
  });
});
