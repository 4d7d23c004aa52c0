// timeout.refresh() starts the delay again: refreshed at 20 ms, the 40 ms timer fires at 60 ms.
setTimeout(() => console.log("at 50"), 50);
setTimeout(() => {
  console.log("refresh at 20");
  timer.refresh();
}, 20);
const timer = setTimeout(() => console.log("fired"), 40);
