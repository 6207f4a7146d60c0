// The navigation folds into a menu on narrow screens: the button shows and hides the list.
// Without this script the list is always shown (it wraps).
(function () {
  "use strict";
  var button = document.querySelector(".nav__toggle");
  var list = document.getElementById("main-nav");
  if (!button || !list) { return; }
  var narrow = window.matchMedia("(max-width: 768px)");
  function fold(folded) {
    button.setAttribute("aria-expanded", folded ? "false" : "true");
    list.classList.toggle("nav__list--folded", folded);
  }
  function fit() {
    button.hidden = !narrow.matches;
    fold(narrow.matches);
  }
  button.addEventListener("click", function () {
    fold(button.getAttribute("aria-expanded") === "true");
  });
  narrow.addEventListener("change", fit);
  fit();
})();
