/* looplens: predict-the-output. A block marked .predict carries its real printed lines and a
   starting order (render/predict.py); this script hides the run, lets the reader put the lines in
   order, and reveals the run with each line's queue. Without this script the run simply shows. */
(function () {
  "use strict";

  var el = window.looplensDom.el;

  function lineText(text) {
    return text === "" ? el("span", "looplens-empty", "(empty line)") : el("code", "", text);
  }

  function mount(block) {
    var data = JSON.parse(block.dataset.looplensPredict);
    var lines = data.lines;
    var run = block.querySelector(".looplens-run");
    if (!run) return;
    run.hidden = true;

    var box = el("div", "looplens-predict");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Predict the output");
    var prompt = el("p", "looplens-predict-prompt");
    prompt.appendChild(el("strong", "", "Predict the output. "));
    prompt.appendChild(document.createTextNode(
      "Put the printed lines in the order you think the run prints them, then check or reveal."));
    box.appendChild(prompt);
    var list = el("ol", "looplens-predict-lines");
    box.appendChild(list);
    var actions = el("div", "looplens-predict-actions");
    var check = el("button", "md-button looplens-predict-check", "Check");
    var reveal = el("button", "md-button md-button--primary looplens-predict-reveal", "Reveal the run");
    check.type = reveal.type = "button";
    var status = el("p", "looplens-predict-status");
    status.setAttribute("aria-live", "polite");
    actions.appendChild(check);
    actions.appendChild(reveal);
    box.appendChild(actions);
    box.appendChild(status);
    run.parentNode.insertBefore(box, run);

    // The reader's order: indices into the real lines.
    var order = data.order.slice();

    function label(index) {
      return lines[index][0] === "" ? "the empty line" : "“" + lines[index][0] + "”";
    }

    function moveButton(position, step, name) {
      var button = el("button", "looplens-predict-move looplens-predict-" + name,
        step < 0 ? "↑" : "↓");
      button.type = "button";
      var what = "Move " + label(order[position]) + (step < 0 ? " up" : " down");
      button.title = what;
      button.setAttribute("aria-label", what);
      button.disabled = position + step < 0 || position + step >= order.length;
      button.onclick = function () {
        var moved = order[position];
        order[position] = order[position + step];
        order[position + step] = moved;
        status.textContent = "";
        draw();
        // Keep the keyboard on the line that moved; at an edge, on its other button.
        var row = list.children[position + step];
        var same = row.querySelector(".looplens-predict-" + name);
        (same.disabled ? row.querySelector(".looplens-predict-move:not(:disabled)") : same).focus();
      };
      return button;
    }

    function draw() {
      list.replaceChildren();
      order.forEach(function (index, position) {
        var row = el("li", "looplens-predict-line");
        row.dataset.line = index;
        row.appendChild(lineText(lines[index][0]));
        var buttons = el("span", "looplens-predict-buttons");
        buttons.appendChild(moveButton(position, -1, "up"));
        buttons.appendChild(moveButton(position, 1, "down"));
        row.appendChild(buttons);
        list.appendChild(row);
      });
    }

    // Lines with the same text are interchangeable: a place is right when its text is.
    function rightPlaces() {
      return order.filter(function (index, position) {
        return lines[index][0] === lines[position][0];
      }).length;
    }

    check.onclick = function () {
      var right = rightPlaces();
      status.textContent = right === lines.length
        ? "All " + lines.length + " lines are in the right place."
        : right + " of " + lines.length + " lines are in the right place.";
    };

    reveal.onclick = function () {
      var right = rightPlaces();
      var answer = el("ol", "looplens-predict-answer");
      lines.forEach(function (line, position) {
        var row = el("li", "looplens-predict-line");
        var guessed = lines[order[position]][0] === line[0];
        row.classList.add(guessed ? "looplens-predict-line--right" : "looplens-predict-line--wrong");
        var head = el("div", "looplens-predict-head");
        var mark = el("span", "looplens-predict-mark", guessed ? "✓" : "✗");
        mark.setAttribute("role", "img");
        mark.setAttribute("aria-label", guessed ? "right place" : "wrong place");
        head.appendChild(mark);
        head.appendChild(lineText(line[0]));
        head.appendChild(el("span", "looplens-queue looplens-queue--" + line[2], line[2]));
        if (line[3]) head.appendChild(el("span", "looplens-predict-by", line[3]));
        if (!guessed) head.appendChild(el("span", "looplens-predict-had", "you had " + label(order[position])));
        row.appendChild(head);
        var note = data.queues[line[2]];
        var why = el("p", "looplens-predict-note", note[0] + " ");
        if (note[1]) {
          var link = el("a", "", "Glossary");
          link.href = note[1];
          why.appendChild(link);
        }
        row.appendChild(why);
        answer.appendChild(row);
      });
      list.replaceWith(answer);
      actions.remove();
      prompt.replaceChildren(el("strong", "", "The real run. "),
        document.createTextNode("Each line with the queue it ran from."));
      status.textContent = "You had " + right + " of " + lines.length + " lines in the right place.";
      run.hidden = false;
      answer.setAttribute("tabindex", "-1");
      answer.focus();
    };

    draw();
  }

  window.looplensDom.mountEach(".looplens[data-looplens-predict]", "data-predict-mounted", mount);
})();
