export default function Index() {
  return <main>LIFT International giving</main>
}
