const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

sleep(10)
  .then(() => {
    console.log("slept 10");
    return sleep(5);
  })
  .then(() => console.log("slept 5 more"))
  .finally(() => console.log("finally"));
Promise.all([sleep(1), sleep(2)]).then(() => console.log("all done"));
