// beforeExit and exit listeners run after the loop has run out of work: after the timer.
process.on("beforeExit", () => console.log("beforeExit"));
process.on("exit", (code) => console.log("exit", code));
setTimeout(() => console.log("timer"), 5);
console.log("main");
