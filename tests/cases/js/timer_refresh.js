// timeout.refresh() starts the delay again: refreshed at 20 ms, the 40 ms timer fires at 60 ms.
const timer = setTimeout(() => console.log("fired"), 40);
setTimeout(() => {
  console.log("refresh at 20");
  timer.refresh();
}, 20);
