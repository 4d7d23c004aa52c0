/* looplens: the sequence diagrams. Each block carries its diagram's Mermaid source; Mermaid
   itself (served beside this script, site/mermaid.py) is loaded the first time a reader opens a
   diagram's tab, not with the page: most readers never open one. Drawn at its natural size in a
   box that scrolls, so that its text stays readable on a phone; drawn again in the other colours
   when the reader switches between the light and the dark palette. */
(function () {
  "use strict";

  var script = document.currentScript;
  // Beside this script, whatever the page's depth: its own address is known only now.
  var library = script ? script.src.replace(/[^/]*$/, "mermaid.min.js") : "mermaid.min.js";
  var loading = null;
  var drawn = 0;

  function loadMermaid() {
    if (window.mermaid && window.mermaid.render) return Promise.resolve(window.mermaid);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = library;
        tag.async = true;
        tag.onload = function () { resolve(window.mermaid); };
        tag.onerror = function () {
          loading = null;  // a later tab opening tries again
          reject(new Error("could not load " + library));
        };
        document.head.appendChild(tag);
      });
    }
    return loading;
  }

  function scheme() {
    return document.body.getAttribute("data-md-color-scheme") === "slate" ? "dark" : "default";
  }

  function visible(box) {
    return box.getClientRects().length > 0;
  }

  // The box's element of class `cls` (made the first time, just above the source).
  function above(box, source, tag, cls) {
    var found = box.querySelector("." + cls);
    if (!found) {
      found = window.looplensDom.el(tag, cls);
      box.insertBefore(found, source);
    }
    return found;
  }

  function draw(box) {
    var wanted = scheme();
    if (box.dataset.looplensDrawn === wanted || box.dataset.looplensDrawing) return;
    box.dataset.looplensDrawing = "1";
    var source = box.querySelector(".looplens-diagram-source");
    loadMermaid().then(function (mermaid) {
      // Text at its own size: the box scrolls sideways instead of the diagram shrinking.
      mermaid.initialize({
        startOnLoad: false,
        securityLevel: "strict",
        theme: wanted,
        sequence: { useMaxWidth: false, mirrorActors: false },
      });
      drawn += 1;
      return mermaid.render("looplens-diagram-" + drawn, source.textContent);
    }).then(function (result) {
      above(box, source, "div", "looplens-diagram-drawn").innerHTML = result.svg;
      source.hidden = true;
      box.dataset.looplensDrawn = wanted;
    }).catch(function (error) {
      above(box, source, "p", "looplens-diagram-failed").textContent =
        "The diagram could not be drawn here (" + error.message + "); its source follows.";
    }).then(function () {
      delete box.dataset.looplensDrawing;
    });
  }

  function drawVisible(scope) {
    (scope || document).querySelectorAll(".looplens-diagram").forEach(function (box) {
      if (visible(box)) draw(box);
    });
  }

  // A tab opening is a radio input changing; the diagram it shows may sit in a tab of a tab
  // (a runtime's run).
  document.addEventListener("change", function (event) {
    var block = event.target.closest && event.target.closest(".looplens");
    if (block) drawVisible(block);
  });

  // A page that opens on a diagram's tab (a link to it), on first load or after instant
  // navigation; and the other palette.
  window.looplensDom.mountEach(".looplens", "data-looplens-diagrams", drawVisible);
  new MutationObserver(function () {
    document.querySelectorAll(".looplens-diagram[data-looplens-drawn]").forEach(function (box) {
      if (visible(box)) draw(box);
      else delete box.dataset.looplensDrawn;  // drawn again when next shown
    });
  }).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
})();
