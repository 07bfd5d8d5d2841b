// Live board: every visit change (from any process, via PostgreSQL NOTIFY) refreshes the grid.
document.addEventListener("DOMContentLoaded", function () {
  if (!document.getElementById("board") || !window.EventSource) return;
  var live = document.getElementById("live");
  var timer = null;
  var source = new EventSource("/board/events");
  source.addEventListener("open", function () { if (live) live.dataset.state = "on"; });
  source.addEventListener("error", function () { if (live) live.dataset.state = "off"; });
  source.addEventListener("visit", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var board = document.getElementById("board");
      if (board && window.htmx) window.htmx.trigger(board, "refresh");
    }, 150);
  });
});
