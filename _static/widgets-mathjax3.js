// The Jupyter widget manager typesets widget labels with MathJax 2's API
// (MathJax.Hub.Queue); this book loads MathJax 3. Forward such calls to MathJax 3.
(function () {
  const hub = {
    Queue: function (job) {
      const element = Array.isArray(job) ? job[2] : undefined;
      if (window.MathJax && window.MathJax.typesetPromise) {
        window.MathJax.typesetPromise(element ? [element] : undefined).catch(function () {});
      }
    },
  };
  function install() {
    if (window.MathJax && !window.MathJax.Hub) window.MathJax.Hub = hub;
  }
  install();
  document.addEventListener("DOMContentLoaded", install);
})();
