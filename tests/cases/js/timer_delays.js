// Set in order of their delays: a timer set later with a shorter delay could fire first on a
// busy machine, and this snippet is about the logical times, not about that race.
setTimeout(() => console.log("0 ms runs at 1 ms"), 0);
setTimeout(() => console.log("10 ms"), 10);
setTimeout(() => console.log("20 ms"), 20);
setTimeout(() => {
  console.log("30 ms");
  setTimeout(() => console.log("30 + 5 ms"), 5);
}, 30);
