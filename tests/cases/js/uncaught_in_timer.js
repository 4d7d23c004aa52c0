console.log("before");
setTimeout(() => {
  console.log("in the timer");
  throw new Error("boom");
}, 10);
