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
