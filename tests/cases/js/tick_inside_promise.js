Promise.resolve()
  .then(() => {
    console.log("then 1");
    process.nextTick(() => console.log("nextTick from then 1"));
  })
  .then(() => console.log("then 2"));
process.nextTick(() => console.log("nextTick from main"));
