console.log("before await");
const value = await new Promise((resolve) => setTimeout(() => resolve(42), 10));
console.log("after await", value);
setTimeout(() => console.log("timer after await"), 5);
