console.log("out 1");
console.error("err 1");
setTimeout(() => {
  console.error("err 2");
  console.log("out 2");
  console.warn("warn 3\nsecond line of the warning");
}, 1);
console.log("out 3");
