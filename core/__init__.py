"""word2vec explorer core: corpus, vocabulary, output layers, Numba trainer, vectors.

This package never imports Streamlit. Data flows one way:
file -> corpus/vocab -> tables (huffman, sampling) -> kernels -> trainer events -> app pages.

Glossary (ours -> word2vec.c):
    W_in   -> syn0      input ("word") vectors, (V, D) float32
    W_out  -> syn1neg   output vectors for negative sampling / NCE / softmax, (V, D) float32
    W_out  -> syn1      output vectors of the Huffman tree's inner nodes for HS, (V-1, D) float32
    counts -> cn        word counts
    codes  -> code      Huffman code bits of a word (root to leaf)
    points -> point     inner-node ids along a word's path (root to leaf)
    keep_prob           subsampling keep probability per word (word2vec.c computes it inline)
"""

__version__ = "0.1.0"
