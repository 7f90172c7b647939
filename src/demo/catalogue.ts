import { cumulate, hashSeed, logNormal, mulberry32, type Rng } from './prng.js';

/**
 * The demo store's catalogue, shaped like the public REES46 dataset: dotted `category_code`s
 * under ~12 top categories, 19-digit `category_id`s, lower-case brands tied to the categories
 * they really sell in, numeric `product_id`s and log-normal prices per category. The same
 * seed always gives the same catalogue.
 */

export interface Product {
  index: number; // position in Catalogue.products
  productId: string;
  categoryId: string;
  categoryCode: string;
  brand: string;
  price: number;
  path: string; // product page path on the demo site
  /** `product_id,category_id,category_code,brand,price` as REES46 CSV, joined once for fast export. */
  rees46Columns: string;
}

export interface Category {
  code: string;
  id: string;
  weight: number; // share of shopper attention
  path: string; // listing page path on the demo site
  brands: string[];
  products: Product[]; // most popular first: shoppers pick with a head-heavy skew
  byBrand: Map<string, Product[]>;
}

export interface Catalogue {
  categories: Category[];
  categoryCumulative: number[]; // for weighted picks
  products: Product[];
  brands: string[];
  /** Complementary product for a few "goes with" pairs (phone → case): product index → product index. */
  complements: Map<number, number>;
}

interface LeafSpec {
  code: string;
  weight: number;
  medianPrice: number;
  priceSigma: number;
  brands: string[];
}

// Weights follow REES46's skew: smartphones dominate, long tail of household categories.
const LEAVES: LeafSpec[] = [
  leaf('electronics.smartphone', 30, 250, 0.7, 'samsung apple xiaomi huawei oppo'),
  leaf('electronics.audio.headphone', 6, 40, 0.8, 'apple samsung sony jbl xiaomi'),
  leaf('electronics.video.tv', 5, 420, 0.6, 'samsung lg sony philips'),
  leaf('electronics.clocks', 4, 150, 0.7, 'apple samsung garmin casio xiaomi'),
  leaf('electronics.tablet', 2, 300, 0.5, 'apple samsung lenovo huawei'),
  leaf('electronics.camera.photo', 1, 600, 0.6, 'canon nikon sony'),
  leaf('appliances.kitchen.refrigerators', 3, 600, 0.5, 'samsung lg bosch beko indesit'),
  leaf('appliances.kitchen.washer', 3, 380, 0.4, 'samsung lg bosch beko indesit electrolux'),
  leaf('appliances.environment.vacuum', 3, 150, 0.7, 'samsung philips dyson xiaomi bosch'),
  leaf('appliances.kitchen.microwave', 1.5, 90, 0.4, 'samsung lg bosch'),
  leaf('appliances.kitchen.coffee_machine', 1, 250, 0.7, 'delonghi philips bosch'),
  leaf('appliances.iron', 1, 45, 0.5, 'philips tefal bosch'),
  leaf('computers.notebook', 4, 700, 0.5, 'apple lenovo hp asus acer dell msi'),
  leaf('computers.desktop', 1, 800, 0.5, 'hp lenovo dell asus acer'),
  leaf('computers.peripherals.mouse', 1.5, 25, 0.7, 'logitech hp xiaomi'),
  leaf('computers.peripherals.printer', 1, 180, 0.6, 'hp canon epson brother'),
  leaf('computers.components.videocards', 1, 450, 0.6, 'msi asus gigabyte'),
  leaf('apparel.shoes', 3, 70, 0.5, 'nike adidas puma reebok'),
  leaf('apparel.shoes.keds', 1.5, 55, 0.4, 'nike adidas puma'),
  leaf('apparel.jacket', 1, 90, 0.5, 'columbia adidas nike'),
  leaf('apparel.trousers', 1, 45, 0.4, 'levis adidas'),
  leaf('furniture.living_room.sofa', 1, 500, 0.5, 'ikea askona hoff'),
  leaf('furniture.bedroom.bed', 1, 400, 0.5, 'askona ikea'),
  leaf('furniture.kitchen.table', 0.7, 150, 0.5, 'ikea hoff'),
  leaf('kids.toys', 2, 25, 0.8, 'lego hasbro'),
  leaf('kids.carriage', 0.7, 300, 0.4, 'chicco cybex'),
  leaf('sport.bicycle', 1.2, 350, 0.6, 'stels merida trek'),
  leaf('sport.trainer', 0.6, 400, 0.6, 'torneo kettler'),
  leaf('auto.accessories.player', 0.8, 60, 0.5, 'pioneer sony'),
  leaf('auto.accessories.videoregister', 0.8, 80, 0.5, 'xiaomi neoline'),
  leaf('construction.tools.drill', 1, 90, 0.6, 'bosch makita dewalt metabo'),
  leaf('construction.tools.saw', 0.6, 120, 0.6, 'bosch makita dewalt'),
  leaf('accessories.bag', 0.8, 60, 0.6, 'samsonite xiaomi'),
  leaf('accessories.phone_case', 1.2, 15, 0.5, 'spigen samsung apple xiaomi'),
  leaf('accessories.wallet', 0.4, 35, 0.5, 'petek samsonite'),
  leaf('medicine.tools.tonometer', 0.5, 45, 0.4, 'omron microlife'),
  leaf('country_yard.lawn_mower', 0.5, 250, 0.5, 'husqvarna stihl makita bosch'),
  leaf('country_yard.cultivator', 0.3, 400, 0.4, 'husqvarna stihl'),
  leaf('stationery.cartrige', 0.8, 35, 0.5, 'hp canon epson brother'),
];

// Shoppers who cart the first often look for the second (drives co-occurrence recommendations).
const COMPLEMENT_CATEGORIES: [string, string][] = [
  ['electronics.smartphone', 'accessories.phone_case'],
  ['computers.notebook', 'computers.peripherals.mouse'],
  ['computers.peripherals.printer', 'stationery.cartrige'],
  ['electronics.video.tv', 'electronics.audio.headphone'],
];

const TARGET_PRODUCTS = 2000;

function leaf(
  code: string,
  weight: number,
  medianPrice: number,
  priceSigma: number,
  brands: string,
): LeafSpec {
  return { code, weight, medianPrice, priceSigma, brands: brands.split(' ') };
}

const cache = new Map<number, Catalogue>();

export function buildCatalogue(seed: number): Catalogue {
  const cached = cache.get(seed);
  if (cached) return cached;
  const rng = mulberry32(hashSeed(seed, 0xca7a1));
  const usedIds = new Set<string>();
  const products: Product[] = [];
  const brandFactor = new Map<string, number>(); // premium brands price higher across categories
  const sqrtSum = LEAVES.reduce((s, l) => s + Math.sqrt(l.weight), 0);

  const categories = LEAVES.map((spec): Category => {
    const id = uniqueDigits(rng, usedIds, '2053013', 12);
    const count = Math.max(12, Math.round((TARGET_PRODUCTS * Math.sqrt(spec.weight)) / sqrtSum));
    const category: Category = {
      code: spec.code,
      id,
      path: `/c/${spec.code.replaceAll('.', '/')}`,
      weight: spec.weight,
      brands: spec.brands,
      products: [],
      byBrand: new Map(),
    };
    for (let i = 0; i < count; i++) {
      const brand = spec.brands[Math.floor(rng() ** 1.5 * spec.brands.length)]; // first-listed brands sell most
      if (!brandFactor.has(brand)) brandFactor.set(brand, 0.75 + rng() * 0.7);
      const price = Math.max(1, logNormal(rng, spec.medianPrice * brandFactor.get(brand)!, spec.priceSigma));
      const productId = uniqueDigits(rng, usedIds, String(1 + LEAVES.indexOf(spec)), 6);
      const rounded = Math.round(price * 100) / 100;
      const product: Product = {
        index: products.length,
        productId,
        categoryId: id,
        categoryCode: spec.code,
        brand,
        price: rounded,
        path: `/p/${productId}-${brand}-${spec.code.slice(spec.code.lastIndexOf('.') + 1)}`,
        rees46Columns: `${productId},${id},${spec.code},${brand},${rounded}`,
      };
      products.push(product);
      category.products.push(product);
      const ofBrand = category.byBrand.get(brand);
      if (ofBrand) ofBrand.push(product);
      else category.byBrand.set(brand, [product]);
    }
    return category;
  });

  const byCode = new Map(categories.map((c) => [c.code, c]));
  const complements = new Map<number, number>();
  for (const [from, to] of COMPLEMENT_CATEGORIES) {
    const targets = byCode.get(to)!.products;
    for (const p of byCode.get(from)!.products) {
      // Same brand when the accessory maker has one (an apple phone gets an apple case).
      const sameBrand = byCode.get(to)!.byBrand.get(p.brand);
      const pool = sameBrand && rng() < 0.5 ? sameBrand : targets;
      complements.set(p.index, pool[Math.floor(rng() ** 2 * pool.length)].index);
    }
  }

  const catalogue: Catalogue = {
    categories,
    categoryCumulative: cumulate(categories.map((c) => c.weight)),
    products,
    brands: [...new Set(LEAVES.flatMap((l) => l.brands))].sort(),
    complements,
  };
  cache.set(seed, catalogue);
  return catalogue;
}

/** A product from a category, skewed to the head so a few bestsellers stand out in top-k views. */
export function pickProduct(rng: Rng, category: Category, brand?: string): Product {
  if (brand !== undefined) {
    const ofBrand = category.byBrand.get(brand);
    if (ofBrand) return ofBrand[Math.floor(rng() ** 2 * ofBrand.length)];
  }
  return category.products[Math.floor(rng() ** 2.5 * category.products.length)];
}

function uniqueDigits(rng: Rng, used: Set<string>, prefix: string, digits: number): string {
  for (;;) {
    let s = prefix;
    for (let i = 0; i < digits; i++) s += Math.floor(rng() * 10);
    if (!used.has(s)) {
      used.add(s);
      return s;
    }
  }
}
