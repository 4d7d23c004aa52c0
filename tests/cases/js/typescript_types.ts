interface Point {
  x: number;
  y: number;
}

function show(point: Point): void {
  console.log(`point ${point.x},${point.y}`);
}

const origin: Point = { x: 0, y: 0 };
setTimeout((): void => show(origin), 1);
Promise.resolve<number>(3).then((n: number) => console.log("n =", n));
console.log("typed sync");
