setTimeout(() => {
  console.log("30 ms");
  setTimeout(() => console.log("30 + 5 ms"), 5);
}, 30);
setTimeout(() => console.log("10 ms"), 10);
setTimeout(() => console.log("0 ms runs at 1 ms"), 0);
setTimeout(() => console.log("20 ms"), 20);
