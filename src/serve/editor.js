// The editor's small helpers; the form works without them.
// - A Markdown field's preview follows what is typed (rendered by the server, as the email will).
// - The preview beside the form shows the draft a moment after each change.
// - After a refused save, the first field with an error has the focus.
// - Items can be reordered by dragging them (the buttons "Move up/down" do the same without a script).
(function () {
  'use strict';
  var form = document.getElementById('editor');
  if (!form) return;
  var csrf = form.querySelector('input[name=csrf]').value;
  // After a refused save, the first field with an error is where the editor goes on.
  var invalid = form.querySelector('[aria-invalid=true]');
  if (invalid) { invalid.focus(); invalid.scrollIntoView({ block: 'center' }); }
  Array.prototype.forEach.call(form.querySelectorAll('textarea[data-markdown]'), function (area) {
    var timer = null;
    area.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var body = new URLSearchParams({ csrf: csrf, text: area.value });
        fetch('/edit/markdown', { method: 'POST', body: body, credentials: 'same-origin' })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            var target = document.getElementById('md-' + area.name);
            // The server sanitised it with ammonia, as the email's HTML is.
            if (html !== null && target) target.innerHTML = html;
          });
      }, 300);
    });
  });
  // The email beside the form follows the draft: the "Preview the draft" button, pressed
  // for the editor a moment after they stop typing.
  var previewButton = document.getElementById('preview-draft');
  var refresh = null;
  if (previewButton && form.requestSubmit) {
    form.addEventListener('input', function (e) {
      if (e.target.name === 'preview_lang') return;
      clearTimeout(refresh);
      refresh = setTimeout(function () { form.requestSubmit(previewButton); }, 800);
    });
    form.querySelector('select[name=preview_lang]').addEventListener('change', function () {
      form.requestSubmit(previewButton);
    });
  }
  var items = form.querySelectorAll('ol.items > li');
  var dragged = null;
  Array.prototype.forEach.call(items, function (li) {
    li.draggable = true;
    li.addEventListener('dragstart', function (e) {
      // Dragging starts from the item's frame, never from a field being edited.
      if (e.target !== li) { e.preventDefault(); return; }
      dragged = li; li.classList.add('dragging');
    });
    li.addEventListener('dragend', function () { li.classList.remove('dragging'); });
    li.addEventListener('dragover', function (e) { if (dragged) e.preventDefault(); });
    li.addEventListener('drop', function (e) {
      e.preventDefault();
      if (!dragged || dragged === li) return;
      var action = document.createElement('input');
      action.type = 'hidden'; action.name = 'action';
      action.value = 'move:' + dragged.dataset.index + ':' + li.dataset.index;
      form.appendChild(action);
      form.submit();
    });
  });
})();
