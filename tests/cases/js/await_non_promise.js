async function main() {
  console.log("main start");
  const value = await 42;
  console.log("after await", value);
}

main();
Promise.resolve().then(() => console.log("then"));
console.log("sync end");
