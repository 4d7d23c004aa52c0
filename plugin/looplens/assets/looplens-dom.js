/* looplens: what the page scripts (looplens-player.js, looplens-predict.js) share, as the
   namespace window.looplensDom. Pages link it before them (site/assets.py), so it is there when
   they run. */
(function () {
  "use strict";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Calls mount(root) once for every element matching `selector`, on this page and on each page
  // Material's instant navigation swaps in after it; the attribute `mark` tells a mounted one.
  function mountEach(selector, mark, mount) {
    function mountAll() {
      document.querySelectorAll(selector + ":not([" + mark + "])").forEach(function (root) {
        root.setAttribute(mark, "");
        mount(root);
      });
    }

    if (window.document$) window.document$.subscribe(mountAll);
    else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
    else mountAll();
  }

  window.looplensDom = { el: el, mountEach: mountEach };
})();
