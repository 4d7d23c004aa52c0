/* looplens: the step-through player. Every frame is the state after one event of the real trace
   embedded in the block (render/player.py); nothing here simulates the loop. */
(function () {
  "use strict";

  var el = window.looplensDom.el;

  // A callback is [queue, api, line, due time, turn, thread (only off the main thread)].
  function describe(cb) {
    return cb[1] + (cb[2] ? " · line " + cb[2] : "") + (cb[5] ? " · " + cb[5] : "");
  }

  // "turn 2 · " before what a step does: the loop turn of the callback that does it (counted on
  // its own thread, which the description names when it is not the main one).
  function turnOf(cb) {
    return "turn " + cb[4] + " · ";
  }

  // The snippet's code, one numbered element per line. Each entry is Pygments' markup of one
  // line as the build wrote it, balanced on its own (render/player.py).
  function codeView(lines) {
    var box = el("div", "highlight"), pre = el("pre"), code = el("code"), numbered = [];
    lines.forEach(function (markup, index) {
      var line = el("span", "looplens-line");
      line.dataset.line = String(index + 1);
      line.innerHTML = markup;
      numbered.push(line);
      code.appendChild(line);
      code.appendChild(document.createTextNode("\n"));
    });
    pre.appendChild(code);
    box.appendChild(pre);
    return { box: box, lines: numbered };
  }

  function mount(root) {
    var data = JSON.parse(root.dataset.trace);
    var events = data.events, callbacks = data.callbacks;
    var fallback = root.querySelector(".looplens-player-fallback");
    if (!events.length) {
      fallback.textContent = "This run recorded no events to step through.";
      return;
    }
    var view = codeView(JSON.parse(root.dataset.code));
    fallback.replaceWith(view.box);
    var codeLines = view.lines;

    var bar = el("div", "looplens-player-bar");
    var buttons = {};
    [["restart", "|◀", "Restart (Home)"], ["back", "◀", "Step back (←)"],
     ["play", "▶", "Play / pause (space)"], ["forward", "▶|", "Step forward (→)"]]
      .forEach(function (spec) {
        var button = el("button", "md-button looplens-player-" + spec[0], spec[1]);
        button.type = "button";
        button.title = spec[2];
        button.setAttribute("aria-label", spec[2]);
        buttons[spec[0]] = button;
        bar.appendChild(button);
      });
    var position = el("span", "looplens-player-position");
    var clock = el("span", "looplens-player-clock");
    bar.appendChild(position);
    bar.appendChild(clock);
    var what = el("p", "looplens-player-event");
    what.setAttribute("aria-live", "polite");

    var panels = el("div", "looplens-player-panels");
    function panel(title) {
      var box = el("div", "looplens-player-panel");
      // A title, not a heading: the page's outline is the article's, and a player sits at any
      // depth of it.
      box.appendChild(el("p", "looplens-player-panel-title", title));
      var body = el("div", "");
      box.appendChild(body);
      panels.appendChild(box);
      return body;
    }
    var stack = panel("Call stack");
    var queues = panel("Queues");
    var output = panel("Console");

    root.insertBefore(what, root.firstChild);
    root.insertBefore(bar, what);
    root.appendChild(panels);
    root.tabIndex = 0;
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", "Step through the run");

    var frame = 0, timer = null;

    function chip(id) {
      var cb = callbacks[id];
      return el("span", "looplens-queue looplens-queue--" + cb[0], describe(cb));
    }

    function show() {
      // Replay the events up to this frame: what ran last is on the stack, what was queued and
      // has not run yet is pending, and every print so far is on the console.
      var running = null, pending = [], printed = [];
      for (var i = 0; i <= frame; i++) {
        var event = events[i];
        if (event[0] === "q") pending.push(event[1]);
        else if (event[0] === "r") {
          running = event[1];
          if (pending.indexOf(running) >= 0) pending.splice(pending.indexOf(running), 1);
        } else printed.push(data.lines[event[3]]);
      }
      // A queue hands its callbacks out by due time, then in the order they came (sort is stable).
      pending.sort(function (a, b) { return callbacks[a][3] - callbacks[b][3]; });
      var current = events[frame], cb = callbacks[current[1]];
      // Queuing happens in the turn of the callback that queues it: the one running.
      var doer = current[0] === "q" && running !== null ? callbacks[running] : cb;
      var does = current[0] === "q" ? "queued on " + cb[0] + ": " + describe(cb)
        : current[0] === "r" ? "runs from " + cb[0] + ": " + describe(cb)
        : "prints “" + data.lines[current[3]][0] + "” in " + describe(cb);
      what.textContent = turnOf(doer) + does;
      position.textContent = "step " + (frame + 1) + " / " + events.length;
      clock.textContent = "t = " + current[2] + " ms";

      // The line that runs: for a print, the call that printed (when the trace knows it); for a
      // callback queued or starting, the line that scheduled it.
      var printedAt = current[0] === "p" ? data.lines[current[3]][2] : undefined;
      var runningLine = printedAt !== undefined ? printedAt : cb[2];
      for (var n = 0; n < codeLines.length; n++) {
        codeLines[n].classList.toggle(
          "looplens-line--current", +codeLines[n].dataset.line === runningLine);
      }

      stack.replaceChildren(running === null ? el("span", "looplens-empty", "empty") : chip(running));

      queues.replaceChildren();
      data.queues.forEach(function (name) {
        var row = el("div", "looplens-player-queue");
        row.dataset.queue = name;
        row.appendChild(el("span", "looplens-player-queue-name", name));
        pending.forEach(function (id) {
          if (callbacks[id][0] === name) row.appendChild(chip(id));
        });
        if (row.children.length === 1) row.appendChild(el("span", "looplens-empty", "empty"));
        queues.appendChild(row);
      });

      output.replaceChildren();
      printed.forEach(function (line) {
        output.appendChild(el("div", "looplens-player-line looplens-player-line--" + line[1], line[0]));
      });
      if (!printed.length) output.appendChild(el("span", "looplens-empty", "nothing printed yet"));

      var atStart = frame === 0, atEnd = frame === events.length - 1;
      // A button that disables itself under the reader's focus would drop it to the page, and
      // the arrow keys with it: the player itself takes the focus first.
      var focused = document.activeElement;
      if ((atStart && (focused === buttons.back || focused === buttons.restart)) ||
          (atEnd && focused === buttons.forward)) {
        root.focus();
      }
      buttons.back.disabled = buttons.restart.disabled = atStart;
      buttons.forward.disabled = atEnd;
      buttons.play.textContent = timer ? "❚❚" : "▶";
    }

    function go(to) {
      frame = Math.max(0, Math.min(events.length - 1, to));
      if (frame === events.length - 1) pause();
      show();
    }
    function pause() {
      clearInterval(timer);
      timer = null;
    }
    function toggle() {
      if (timer) pause();
      else {
        if (frame === events.length - 1) frame = 0;
        timer = setInterval(function () {
          // Material's instant navigation drops the page without telling the player.
          if (!root.isConnected) pause();
          else go(frame + 1);
        }, 900);
      }
      show();
    }

    buttons.restart.onclick = function () { pause(); go(0); };
    buttons.back.onclick = function () { pause(); go(frame - 1); };
    buttons.forward.onclick = function () { pause(); go(frame + 1); };
    buttons.play.onclick = toggle;
    // Keys act on the player that has focus, so that several players and the page's own
    // shortcuts (Material's search) never fight over them.
    root.addEventListener("keydown", function (key) {
      // A focused button already answers the space bar with a click.
      if (key.key === " " && key.target.tagName === "BUTTON") return;
      var action = { ArrowLeft: buttons.back.onclick, ArrowRight: buttons.forward.onclick,
        " ": toggle, Home: buttons.restart.onclick }[key.key];
      if (action) { key.preventDefault(); action(); }
    });
    show();
  }

  window.looplensDom.mountEach(".looplens-player", "data-mounted", mount);
})();
