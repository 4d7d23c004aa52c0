const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Timers set later with a shorter delay could fire first on a busy machine: set the short ones
// first, so the order never depends on how fast the script runs.
Promise.all([sleep(1), sleep(2)]).then(() => console.log("all done"));
sleep(10)
  .then(() => {
    console.log("slept 10");
    return sleep(5);
  })
  .then(() => console.log("slept 5 more"))
  .finally(() => console.log("finally"));
