;; The inner loops of implicit ALS (see als-core.ts for the mathematics) in WebAssembly with
;; 128-bit SIMD: four float32 lanes per instruction, which V8 compiles to SSE. Plain JavaScript
;; runs these loops one scalar at a time; this is the difference between 16 s and a few seconds
;; per iteration on 10 M interactions.
;;
;; Everything lives in one shared memory that the calling thread lays out (als-kernel.ts): the
;; sparse matrices (CSR), the factor matrices, the Gram matrix and one scratch area per thread.
;; Pointers are byte offsets into it. `n` is the padded factor count, always a multiple of 8, so
;; every vector is a whole number of 32-byte pairs of lanes and no loop needs a tail. The padding
;; columns are zero in the factors and stay zero (their residuals are zero).
;;
;; Built into als-kernel-wasm.ts by `npm run build:kernel`; a test checks the two agree.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; The sum of a vector's four lanes.
  (func $hsum (param $v v128) (result f32)
    (local.set $v (f32x4.add (local.get $v)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
    (local.set $v (f32x4.add (local.get $v)
      (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $v) (local.get $v))))
    (f32x4.extract_lane 0 (local.get $v)))

  ;; a · b over n floats, two accumulators so consecutive adds do not wait on each other.
  (func $dot (param $a i32) (param $b i32) (param $n i32) (result f32)
    (local $end i32) (local $s0 v128) (local $s1 v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (loop $next
      (local.set $s0 (f32x4.add (local.get $s0)
        (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
      (local.set $s1 (f32x4.add (local.get $s1)
        (f32x4.mul (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b)))))
      (local.set $a (i32.add (local.get $a) (i32.const 32)))
      (local.set $b (i32.add (local.get $b) (i32.const 32)))
      (br_if $next (i32.lt_u (local.get $a) (local.get $end))))
    (call $hsum (f32x4.add (local.get $s0) (local.get $s1))))

;; out[r] = A[r] · v for the rows × n matrix A (rows a multiple of 4): four rows at a time share
  ;; each load of v, and their four sums come out as one vector.
  (func $gemv (param $A i32) (param $v i32) (param $out i32) (param $rows i32) (param $n i32)
    (local $bytes i32) (local $row i32) (local $b i32) (local $vb v128) (local $end i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $t0 v128) (local $t1 v128)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $rows) (i32.const 2))))
    (local.set $row (local.get $A))
    (loop $rows
      (local.set $s0 (v128.const i64x2 0 0))
      (local.set $s1 (v128.const i64x2 0 0))
      (local.set $s2 (v128.const i64x2 0 0))
      (local.set $s3 (v128.const i64x2 0 0))
      (local.set $b (i32.const 0))
      (loop $cols
        (local.set $vb (v128.load (i32.add (local.get $v) (local.get $b))))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $vb)
          (v128.load (i32.add (local.get $row) (local.get $b))))))
        (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $vb)
          (v128.load (i32.add (i32.add (local.get $row) (local.get $bytes)) (local.get $b))))))
        (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (local.get $vb)
          (v128.load (i32.add (i32.add (local.get $row) (i32.shl (local.get $bytes) (i32.const 1))) (local.get $b))))))
        (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (local.get $vb)
          (v128.load (i32.add (i32.add (local.get $row) (i32.mul (local.get $bytes) (i32.const 3))) (local.get $b))))))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br_if $cols (i32.lt_u (local.get $b) (local.get $bytes))))
      ;; Transpose-and-add: lane k of the result is the sum of s_k's lanes.
      (local.set $t0 (f32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $s0) (local.get $s1))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $s0) (local.get $s1))))
      (local.set $t1 (f32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $s2) (local.get $s3))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $s2) (local.get $s3))))
      ;; t0 = [a0+a2, b0+b2, a1+a3, b1+b3], t1 likewise for rows 2 and 3.
      (v128.store (local.get $out) (f32x4.add
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
        (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (local.set $row (i32.add (local.get $row) (i32.shl (local.get $bytes) (i32.const 2))))
      (br_if $rows (i32.lt_u (local.get $out) (local.get $end)))))

  ;; Item scores for serving: out[i] = Y[i] · x over `rows` item rows (a multiple of 4).
  (func (export "scores") (param $Y i32) (param $x i32) (param $out i32) (param $rows i32) (param $n i32)
    (call $gemv (local.get $Y) (local.get $x) (local.get $out) (local.get $rows) (local.get $n)))

  ;; out = sign · (G + λI) v for the n × n matrix G.
  (func $matvec (param $G i32) (param $v i32) (param $out i32) (param $n i32)
                (param $lambda f32) (param $sign f32)
    (local $end i32) (local $lv v128) (local $sv v128)
    (call $gemv (local.get $G) (local.get $v) (local.get $out) (local.get $n) (local.get $n))
    (local.set $lv (f32x4.splat (local.get $lambda)))
    (local.set $sv (f32x4.splat (local.get $sign)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (loop $next
      (v128.store (local.get $out) (f32x4.mul (local.get $sv) (f32x4.add (v128.load (local.get $out))
        (f32x4.mul (local.get $lv) (v128.load (local.get $v))))))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (local.set $v (i32.add (local.get $v) (i32.const 16)))
      (br_if $next (i32.lt_u (local.get $out) (local.get $end)))))

  ;; The sparse part of A·v, for one row's observed entries k0 … k1:
  ;;   first = 1: out += Σ (c − (c−1) y·v) y   (b − (A − (G+λI)) v, the residual's sparse part)
  ;;   first = 0: out += Σ (c−1)(y·v) y         ((A − (G+λI)) v)
  ;; with c = 1 + α w. The dot product and the update are fused so y is read from cache once more.
  (func $sparse (param $k i32) (param $k1 i32) (param $indices i32) (param $values i32)
                (param $Y i32) (param $v i32) (param $out i32) (param $n i32) (param $alpha f32)
                (param $first i32)
    (local $bytes i32) (local $y i32) (local $end i32) (local $b i32) (local $o i32)
    (local $cm1 f32) (local $coef f32) (local $cv v128) (local $s0 v128) (local $s1 v128)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $k1)))
        (local.set $cm1 (f32.mul (local.get $alpha)
          (f32.load (i32.add (local.get $values) (i32.shl (local.get $k) (i32.const 2))))))
        (local.set $y (i32.add (local.get $Y) (i32.mul (local.get $bytes)
          (i32.load (i32.add (local.get $indices) (i32.shl (local.get $k) (i32.const 2)))))))
        ;; d = y · v
        (local.set $s0 (v128.const i64x2 0 0))
        (local.set $s1 (v128.const i64x2 0 0))
        (local.set $b (local.get $y))
        (local.set $o (local.get $v))
        (local.set $end (i32.add (local.get $y) (local.get $bytes)))
        (loop $dot
          (local.set $s0 (f32x4.add (local.get $s0)
            (f32x4.mul (v128.load (local.get $b)) (v128.load (local.get $o)))))
          (local.set $s1 (f32x4.add (local.get $s1)
            (f32x4.mul (v128.load offset=16 (local.get $b)) (v128.load offset=16 (local.get $o)))))
          (local.set $b (i32.add (local.get $b) (i32.const 32)))
          (local.set $o (i32.add (local.get $o) (i32.const 32)))
          (br_if $dot (i32.lt_u (local.get $b) (local.get $end))))
        (local.set $coef (f32.mul (local.get $cm1) (call $hsum (f32x4.add (local.get $s0) (local.get $s1)))))
        (if (local.get $first)
          (then (local.set $coef (f32.sub (f32.add (f32.const 1) (local.get $cm1)) (local.get $coef)))))
        ;; out += coef · y
        (local.set $cv (f32x4.splat (local.get $coef)))
        (local.set $b (local.get $y))
        (local.set $o (local.get $out))
        (loop $axpy
          (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o))
            (f32x4.mul (local.get $cv) (v128.load (local.get $b)))))
          (v128.store offset=16 (local.get $o) (f32x4.add (v128.load offset=16 (local.get $o))
            (f32x4.mul (local.get $cv) (v128.load offset=16 (local.get $b)))))
          (local.set $b (i32.add (local.get $b) (i32.const 32)))
          (local.set $o (i32.add (local.get $o) (i32.const 32)))
          (br_if $axpy (i32.lt_u (local.get $b) (local.get $end))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next))))

  ;; x += step p; r −= step ap; returns r · r.
  (func $cgStep (param $x i32) (param $r i32) (param $p i32) (param $ap i32) (param $n i32)
                (param $step f32) (result f32)
    (local $end i32) (local $sv v128) (local $rv v128) (local $s v128)
    (local.set $sv (f32x4.splat (local.get $step)))
    (local.set $end (i32.add (local.get $r) (i32.shl (local.get $n) (i32.const 2))))
    (loop $next
      (v128.store (local.get $x) (f32x4.add (v128.load (local.get $x))
        (f32x4.mul (local.get $sv) (v128.load (local.get $p)))))
      (local.set $rv (f32x4.sub (v128.load (local.get $r))
        (f32x4.mul (local.get $sv) (v128.load (local.get $ap)))))
      (v128.store (local.get $r) (local.get $rv))
      (local.set $s (f32x4.add (local.get $s) (f32x4.mul (local.get $rv) (local.get $rv))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $r (i32.add (local.get $r) (i32.const 16)))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $ap (i32.add (local.get $ap) (i32.const 16)))
      (br_if $next (i32.lt_u (local.get $r) (local.get $end))))
    (call $hsum (local.get $s)))

  ;; p = r + beta p (beta = 0 copies r into p).
  (func $direction (param $p i32) (param $r i32) (param $n i32) (param $beta f32)
    (local $end i32) (local $bv v128)
    (local.set $bv (f32x4.splat (local.get $beta)))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (loop $next
      (v128.store (local.get $p) (f32x4.add (v128.load (local.get $r))
        (f32x4.mul (local.get $bv) (v128.load (local.get $p)))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $r (i32.add (local.get $r) (i32.const 16)))
      (br_if $next (i32.lt_u (local.get $p) (local.get $end)))))

  ;; Updates rows start … end−1 of X in place: for each, up to `steps` conjugate-gradient steps on
  ;; (G + λI + Σ (c−1) y yᵀ) x = Σ c y, starting from the row's current value. G = YᵀY.
  ;; $s is this thread's scratch: three vectors (r, p, ap) of n floats.
  (func (export "solve_rows")
    (param $indptr i32) (param $indices i32) (param $values i32) (param $Y i32) (param $X i32)
    (param $G i32) (param $start i32) (param $end i32) (param $n i32) (param $alpha f32)
    (param $lambda f32) (param $steps i32) (param $s i32)
    (local $u i32) (local $bytes i32) (local $x i32) (local $r i32) (local $p i32) (local $ap i32)
    (local $k0 i32) (local $k1 i32) (local $it i32)
    (local $rsOld f32) (local $rsNew f32) (local $pap f32) (local $step f32)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $r (local.get $s))
    (local.set $p (i32.add (local.get $s) (local.get $bytes)))
    (local.set $ap (i32.add (local.get $p) (local.get $bytes)))
    (local.set $u (local.get $start))
    (block $users
      (loop $user
        (br_if $users (i32.ge_u (local.get $u) (local.get $end)))
        (local.set $x (i32.add (local.get $X) (i32.mul (local.get $u) (local.get $bytes))))
        (local.set $k0 (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $u) (i32.const 2)))))
        (local.set $k1 (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $u) (i32.const 2)))))
        ;; r = b − A x
        (call $matvec (local.get $G) (local.get $x) (local.get $r) (local.get $n) (local.get $lambda) (f32.const -1))
        (call $sparse (local.get $k0) (local.get $k1) (local.get $indices) (local.get $values)
          (local.get $Y) (local.get $x) (local.get $r) (local.get $n) (local.get $alpha) (i32.const 1))
        (call $direction (local.get $p) (local.get $r) (local.get $n) (f32.const 0))
        (local.set $rsOld (call $dot (local.get $r) (local.get $r) (local.get $n)))
        (local.set $it (i32.const 0))
        (block $cg
          (br_if $cg (f32.lt (local.get $rsOld) (f32.const 1e-20)))
          (loop $cgStep
            (br_if $cg (i32.ge_u (local.get $it) (local.get $steps)))
            ;; ap = A p
            (call $matvec (local.get $G) (local.get $p) (local.get $ap) (local.get $n) (local.get $lambda) (f32.const 1))
            (call $sparse (local.get $k0) (local.get $k1) (local.get $indices) (local.get $values)
              (local.get $Y) (local.get $p) (local.get $ap) (local.get $n) (local.get $alpha) (i32.const 0))
            (local.set $pap (call $dot (local.get $p) (local.get $ap) (local.get $n)))
            (br_if $cg (f32.le (local.get $pap) (f32.const 0)))
            (local.set $step (f32.div (local.get $rsOld) (local.get $pap)))
            (local.set $rsNew (call $cgStep (local.get $x) (local.get $r) (local.get $p) (local.get $ap)
              (local.get $n) (local.get $step)))
            (br_if $cg (f32.lt (local.get $rsNew) (f32.const 1e-20)))
            (call $direction (local.get $p) (local.get $r) (local.get $n)
              (f32.div (local.get $rsNew) (local.get $rsOld)))
            (local.set $rsOld (local.get $rsNew))
            (local.set $it (i32.add (local.get $it) (i32.const 1)))
            (br $cgStep)))
        (local.set $u (i32.add (local.get $u) (i32.const 1)))
        (br $user))))

  ;; G += Σ_rows F[r]ᵀ F[r] over rows start … end−1, upper triangle only (columns from the
  ;; diagonal's lane group on; the caller mirrors the upper triangle into the lower one).
  (func (export "gram") (param $F i32) (param $start i32) (param $end i32) (param $n i32) (param $G i32)
    (local $bytes i32) (local $row i32) (local $rowEnd i32) (local $a i32) (local $from i32)
    (local $g i32) (local $c i32) (local $va f32) (local $sv v128)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $row (i32.add (local.get $F) (i32.mul (local.get $start) (local.get $bytes))))
    (local.set $rowEnd (i32.add (local.get $F) (i32.mul (local.get $end) (local.get $bytes))))
    (block $rows
      (loop $nextRow
        (br_if $rows (i32.ge_u (local.get $row) (local.get $rowEnd)))
        (local.set $a (i32.const 0))
        (loop $nextA
          (local.set $va (f32.load (i32.add (local.get $row) (i32.shl (local.get $a) (i32.const 2)))))
          (if (f32.ne (local.get $va) (f32.const 0))
            (then
              (local.set $sv (f32x4.splat (local.get $va)))
              ;; columns from the start of a's group of four lanes
              (local.set $from (i32.shl (i32.and (local.get $a) (i32.const -4)) (i32.const 2)))
              (local.set $g (i32.add (i32.add (local.get $G) (i32.mul (local.get $a) (local.get $bytes))) (local.get $from)))
              (local.set $c (i32.add (local.get $row) (local.get $from)))
              (loop $cols
                (v128.store (local.get $g) (f32x4.add (v128.load (local.get $g))
                  (f32x4.mul (local.get $sv) (v128.load (local.get $c)))))
                (local.set $g (i32.add (local.get $g) (i32.const 16)))
                (local.set $c (i32.add (local.get $c) (i32.const 16)))
                (br_if $cols (i32.lt_u (local.get $c) (i32.add (local.get $row) (local.get $bytes)))))))
          (local.set $a (i32.add (local.get $a) (i32.const 1)))
          (br_if $nextA (i32.lt_u (local.get $a) (local.get $n))))
        (local.set $row (i32.add (local.get $row) (local.get $bytes)))
        (br $nextRow))))

  ;; Σ over the observed pairs of rows start … end−1 of c (1 − x·y)² − (x·y)², in float64.
  (func (export "loss_observed")
    (param $indptr i32) (param $indices i32) (param $values i32) (param $Y i32) (param $X i32)
    (param $start i32) (param $end i32) (param $n i32) (param $alpha f64) (result f64)
    (local $u i32) (local $bytes i32) (local $x i32) (local $k i32) (local $k1 i32)
    (local $c f64) (local $d f64) (local $loss f64)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $u (local.get $start))
    (block $users
      (loop $user
        (br_if $users (i32.ge_u (local.get $u) (local.get $end)))
        (local.set $x (i32.add (local.get $X) (i32.mul (local.get $u) (local.get $bytes))))
        (local.set $k (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $u) (i32.const 2)))))
        (local.set $k1 (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $u) (i32.const 2)))))
        (block $pairs
          (loop $pair
            (br_if $pairs (i32.ge_u (local.get $k) (local.get $k1)))
            (local.set $c (f64.add (f64.const 1) (f64.mul (local.get $alpha) (f64.promote_f32
              (f32.load (i32.add (local.get $values) (i32.shl (local.get $k) (i32.const 2))))))))
            (local.set $d (f64.promote_f32 (call $dot (local.get $x)
              (i32.add (local.get $Y) (i32.mul (local.get $bytes)
                (i32.load (i32.add (local.get $indices) (i32.shl (local.get $k) (i32.const 2))))))
              (local.get $n))))
            (local.set $loss (f64.add (local.get $loss)
              (f64.sub
                (f64.mul (local.get $c) (f64.mul (f64.sub (f64.const 1) (local.get $d)) (f64.sub (f64.const 1) (local.get $d))))
                (f64.mul (local.get $d) (local.get $d)))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $pair)))
        (local.set $u (i32.add (local.get $u) (i32.const 1)))
        (br $user)))
    (local.get $loss))
)
