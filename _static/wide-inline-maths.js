// An inline equation wider than its column (a long one on a phone) would be cut at the column's
// edge: once MathJax has typeset the page, and on every resize, such an equation scrolls inside its
// own box instead (class wide-inline-maths, _static/book.css). Narrower ones keep their baseline.
(function () {
  function mark() {
    for (const maths of document.querySelectorAll('article mjx-container:not([display="true"])')) {
      maths.classList.remove("wide-inline-maths");
      const column = maths.closest("p, li, td, dd, div");
      if (column && maths.getBoundingClientRect().width > column.clientWidth) {
        maths.classList.add("wide-inline-maths");
      }
    }
  }
  function whenTypeset() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(mark);
    } else {
      setTimeout(whenTypeset, 100);
    }
  }
  document.addEventListener("DOMContentLoaded", whenTypeset);
  window.addEventListener("resize", mark);
})();
