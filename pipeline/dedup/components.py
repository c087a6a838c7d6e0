"""Connected components of a graph given as a Spark DataFrame of edges, by alternating large-star and small-star
(Kiveris et al., "Connected Components in MapReduce and Beyond", SoCC 2014).

Why this algorithm: every round is two group-bys and two joins over the edge list, nothing is collected to the driver,
and it converges in O(log^2 n) rounds; LSH graphs, made of small near-cliques, are stars after one. Each round's edges are checkpointed so
the query plan does not grow with the number of rounds. The result does not depend on partitioning: the label of a
component is its smallest node id.
"""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def _canonical(edges: DataFrame) -> DataFrame:
    """Undirected edges as (hi, lo) with hi > lo, without self loops or repeats."""
    return (
        edges.where(F.col("src") != F.col("dst"))
        .select(F.greatest("src", "dst").alias("hi"), F.least("src", "dst").alias("lo"))
        .distinct()
    )


def _large_star(edges: DataFrame) -> DataFrame:
    """Link every neighbour larger than u to the smallest node of u's closed neighbourhood."""
    both = edges.select(F.col("hi").alias("u"), F.col("lo").alias("v")).unionByName(
        edges.select(F.col("lo").alias("u"), F.col("hi").alias("v"))
    )
    smallest = both.groupBy("u").agg(F.min("v").alias("m")).select(
        F.col("u").alias("lo"), F.least("u", "m").alias("m")
    )
    # No distinct here: small-star's group-by and final distinct absorb repeats, saving a shuffle per round.
    return edges.join(smallest, "lo").select("hi", F.col("m").alias("lo"))


def _small_star(edges: DataFrame) -> DataFrame:
    """Link u and its smaller neighbours to the smallest of them."""
    smallest = edges.groupBy("hi").agg(F.min("lo").alias("m"))
    spokes = (
        edges.join(smallest, "hi")
        .where(F.col("lo") != F.col("m"))
        .select(F.col("lo").alias("hi"), F.col("m").alias("lo"))
    )
    return spokes.unionByName(smallest.select("hi", F.col("m").alias("lo"))).distinct()


def _materialize(df: DataFrame) -> DataFrame:
    """Cut the lineage: reliable checkpoint when a checkpoint directory is set, else a local one."""
    if df.sparkSession.sparkContext.getCheckpointDir():
        return df.checkpoint(eager=True)
    return df.localCheckpoint(eager=True)


def _is_star_forest(edges: DataFrame) -> bool:
    """True when every node is either a root (only ever `lo`) or a leaf with exactly one edge to a root: the fixed
    point of both operations, reached with no further round. One aggregation over the edges."""
    ends = edges.select(F.col("hi").alias("n"), F.lit(1).alias("up"), F.lit(0).alias("down")).unionByName(
        edges.select(F.col("lo").alias("n"), F.lit(0).alias("up"), F.lit(1).alias("down"))
    )
    degree = ends.groupBy("n").agg(F.sum("up").alias("up"), F.sum("down").alias("down"))
    return degree.where((F.col("up") > 1) | ((F.col("up") > 0) & (F.col("down") > 0))).isEmpty()


def connected_components(edges: DataFrame, max_iterations: int = 64) -> DataFrame:
    """(node, component) for every node that has an edge; component = smallest node id of its component.

    `edges` has long columns src and dst, in any orientation, repeats and self loops allowed. Stops as soon as the
    edges form stars around their minima (LSH graphs: usually after one round). Raises RuntimeError when that takes
    more than `max_iterations` rounds (they need O(log^2 n), so this means a graph far larger than the bound was
    sized for).
    """
    current = _materialize(_canonical(edges))
    rounds = 0
    while not _is_star_forest(current):
        if rounds == max_iterations:
            raise RuntimeError(f"connected components did not converge in {max_iterations} rounds")
        current = _materialize(_small_star(_large_star(current)))
        rounds += 1
    roots = current.select(F.col("lo").alias("node"), F.col("lo").alias("component")).distinct()
    return current.select(F.col("hi").alias("node"), F.col("lo").alias("component")).unionByName(roots)
